/// Peak picking on sampled spectra.
public enum Peaks {
    /// A local maximum of a 2-D map.
    public struct Peak2D: Sendable, Equatable {
        /// Row index (first axis) and column index (second axis) into the map.
        public var row: Int, col: Int
        /// Map value at the peak.
        public var value: Double
        /// A peak at (row, col) with the given map value.
        public init(row: Int, col: Int, value: Double) { self.row = row; self.col = col; self.value = value }
    }

    /// The `count` largest strict-or-plateau local maxima (8-neighbourhood) of `values`
    /// (row-major: values[i][j], all rows equal length), largest first. Boundary samples count
    /// as maxima when no in-range neighbour exceeds them. Fewer than `count` are returned if the
    /// map has fewer local maxima.
    public static func localMaxima2D(_ values: [[Double]], count: Int) -> [Peak2D] {
        let nr = values.count
        guard nr > 0, count > 0 else { return [] }
        let nc = values[0].count
        var found: [Peak2D] = []
        for i in 0..<nr {
            for j in 0..<nc {
                let v = values[i][j]
                guard v.isFinite else { continue }
                var isMax = true
                outer: for di in -1...1 {
                    for dj in -1...1 where di != 0 || dj != 0 {
                        let ii = i + di, jj = j + dj
                        guard ii >= 0, ii < nr, jj >= 0, jj < nc else { continue }
                        let w = values[ii][jj]
                        // Plateau tie-break: a neighbour earlier in scan order with the same value wins.
                        if w > v || (w == v && (di < 0 || (di == 0 && dj < 0))) { isMax = false; break outer }
                    }
                }
                if isMax { found.append(Peak2D(row: i, col: j, value: v)) }
            }
        }
        found.sort { $0.value > $1.value }
        return Array(found.prefix(count))
    }

    /// Indices of the `count` largest local maxima of a 1-D sequence, largest first.
    public static func localMaxima1D(_ v: [Double], count: Int) -> [Int] {
        guard !v.isEmpty, count > 0 else { return [] }
        var idx: [Int] = []
        for i in v.indices {
            let l = i > 0 ? v[i - 1] : -Double.infinity
            let r = i + 1 < v.count ? v[i + 1] : -Double.infinity
            if v[i] > l && v[i] >= r { idx.append(i) }
        }
        idx.sort { v[$0] > v[$1] }
        return Array(idx.prefix(count))
    }
}
