import Numerics

/// Complex double, the default scalar of the physical models.
public typealias CDouble = Complex<Double>
/// Complex float, for large learning-side tensors.
public typealias CFloat = Complex<Float>

/// A dense column-major matrix, shape `rows × cols`, element (i, j) at `data[i + j*rows]`.
///
/// Column-major so the storage is handed to BLAS/LAPACK without copies; a column is a
/// contiguous slice (`column(j)`), which is how steering dictionaries are laid out
/// (one atom per column).
public struct Matrix<Element: BLASScalar>: Sendable, Equatable {
    public private(set) var rows: Int
    public private(set) var cols: Int
    /// Column-major storage, `rows * cols` elements.
    public var data: [Element]

    /// Zero matrix `rows × cols`.
    public init(rows: Int, cols: Int) {
        precondition(rows >= 0 && cols >= 0, "Matrix: negative shape")
        self.rows = rows; self.cols = cols
        data = [Element](repeating: .zero, count: rows * cols)
    }
    /// Matrix with every element equal to `value`.
    public init(rows: Int, cols: Int, repeating value: Element) {
        precondition(rows >= 0 && cols >= 0, "Matrix: negative shape")
        self.rows = rows; self.cols = cols
        data = [Element](repeating: value, count: rows * cols)
    }
    /// Wraps column-major `data` (count must equal rows*cols).
    public init(rows: Int, cols: Int, data: [Element]) {
        precondition(data.count == rows * cols, "Matrix: data.count \(data.count) != \(rows)x\(cols)")
        self.rows = rows; self.cols = cols; self.data = data
    }
    /// Builds from a closure `f(i, j)`.
    public init(rows: Int, cols: Int, _ f: (Int, Int) -> Element) {
        self.init(rows: rows, cols: cols)
        for j in 0..<cols { for i in 0..<rows { data[i + j * rows] = f(i, j) } }
    }
    /// Builds from columns (all of equal length).
    public init(columns: [[Element]]) {
        let r = columns.first?.count ?? 0
        self.init(rows: r, cols: columns.count)
        for (j, c) in columns.enumerated() {
            precondition(c.count == r, "Matrix(columns:): ragged columns")
            data.replaceSubrange(j * r..<(j + 1) * r, with: c)
        }
    }
    /// Identity `n × n`.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, cols: n)
        for i in 0..<n { m.data[i + i * n] = .one }
        return m
    }

    /// Entry (i, j); column-major storage, `data[i + j * rows]`.
    @inlinable
    public subscript(i: Int, j: Int) -> Element {
        get { data[i + j * rows] }
        set { data[i + j * rows] = newValue }
    }

    /// Column `j` as a new array.
    public func column(_ j: Int) -> [Element] { Array(data[j * rows..<(j + 1) * rows]) }
    /// Overwrites column `j`.
    public mutating func setColumn(_ j: Int, _ v: [Element]) {
        precondition(v.count == rows)
        data.replaceSubrange(j * rows..<(j + 1) * rows, with: v)
    }
    /// Row `i` as a new array.
    public func row(_ i: Int) -> [Element] { (0..<cols).map { data[i + $0 * rows] } }
    /// Columns with the given indices, in that order.
    public func columns(_ idx: [Int]) -> Matrix {
        var out = Matrix(rows: rows, cols: idx.count)
        for (k, j) in idx.enumerated() {
            out.data.replaceSubrange(k * rows..<(k + 1) * rows, with: data[j * rows..<(j + 1) * rows])
        }
        return out
    }
    /// Transpose (no conjugation).
    public var transposed: Matrix {
        var out = Matrix(rows: cols, cols: rows)
        for j in 0..<cols { for i in 0..<rows { out.data[j + i * cols] = data[i + j * rows] } }
        return out
    }
    /// Conjugate transpose Aᴴ.
    public var adjoint: Matrix {
        var out = Matrix(rows: cols, cols: rows)
        for j in 0..<cols { for i in 0..<rows { out.data[j + i * cols] = data[i + j * rows].conj } }
        return out
    }
    /// Frobenius norm ‖A‖_F.
    public var frobeniusNorm: Element.RealPart {
        var s: Element.RealPart = 0
        for x in data { s += x.absSquared }
        return s.squareRoot()
    }
    /// True when every element is finite.
    public var isFinite: Bool { data.allSatisfy { $0.isFiniteValue } }
    /// Reinterprets the shape (same column-major data).
    public func reshaped(rows r: Int, cols c: Int) -> Matrix {
        precondition(r * c == rows * cols, "reshaped: size mismatch")
        return Matrix(rows: r, cols: c, data: data)
    }
}
