/// Exact generator state for checkpoints (resumable training): the four xoshiro256** words and the
/// cached Box–Muller variate. `RandomSource(state: g.state)` continues g's sequence bit for bit.
extension RandomSource {
    /// [s0, s1, s2, s3, has-spare (0/1), bit pattern of the spare Gaussian].
    public var state: [UInt64] {
        [s0, s1, s2, s3, spareGaussian == nil ? 0 : 1, spareGaussian?.bitPattern ?? 0]
    }

    /// Restores a state captured with `state`.
    /// - Throws: `ISACError.invalidParameter(name: "rng state")` unless it has 6 words and a non-zero generator.
    public init(state w: [UInt64]) throws {
        guard w.count == 6, w[0] | w[1] | w[2] | w[3] != 0, w[4] <= 1 else {
            throw ISACError.invalidParameter(name: "rng state", value: "\(w.count) words", valid: "6 words from RandomSource.state, non-zero generator")
        }
        self.init(seed: 0)
        s0 = w[0]; s1 = w[1]; s2 = w[2]; s3 = w[3]
        spareGaussian = w[4] == 1 ? Double(bitPattern: w[5]) : nil
    }
}
