import Foundation
import Numerics
import Testing
@testable import Linalg
@testable import Waveforms

// MARK: - OFDM grid

@Test func ofdmGridConventions() throws {
    let g = try OFDMGrid(carrierHz: 28e9, subcarrierSpacingHz: 120e3, count: 4)
    let f = g.frequenciesHz
    let expected = [28e9 - 180e3, 28e9 - 60e3, 28e9 + 60e3, 28e9 + 180e3]
    for (a, b) in zip(f, expected) { #expect(abs(a - b) < 1e-3) }
    #expect(abs(f.reduce(0, +) / 4 - 28e9) < 1e-3)
    #expect(g.bandwidthHz == 480e3)
    #expect(abs(g.symbolDurationSeconds - 1 / 120e3) < 1e-18)

    let o = try OFDMGrid(carrierHz: 28e9, subcarrierSpacingHz: 1e6, count: 256, convention: .offsetFromCarrier)
    #expect(o.frequencyHz(0) == 28e9)
    #expect(abs(o.frequencyHz(255) - (28e9 + 255e6)) < 1e-3)
    #expect(abs(o.wavelengthMeters(0) - 299_792_458.0 / 28e9) < 1e-15)
    // Odd M: the centre subcarrier sits exactly on the carrier.
    let odd = try OFDMGrid(carrierHz: 1e9, subcarrierSpacingHz: 15e3, count: 5)
    #expect(odd.frequencyHz(2) == 1e9)
}

@Test func ofdmGridRejectsBadInput() {
    #expect(throws: ISACError.self) { try OFDMGrid(carrierHz: 0, subcarrierSpacingHz: 1e3, count: 4) }
    #expect(throws: ISACError.self) { try OFDMGrid(carrierHz: -1e9, subcarrierSpacingHz: 1e3, count: 4) }
    #expect(throws: ISACError.self) { try OFDMGrid(carrierHz: 1e9, subcarrierSpacingHz: 0, count: 4) }
    #expect(throws: ISACError.self) { try OFDMGrid(carrierHz: 1e9, subcarrierSpacingHz: .nan, count: 4) }
    #expect(throws: ISACError.self) { try OFDMGrid(carrierHz: 1e9, subcarrierSpacingHz: 1e3, count: 0) }
    #expect(throws: ISACError.self) { try OFDMGrid(carrierHz: 1e9, subcarrierSpacingHz: 1e3, count: -3) }
    // Band reaching below 0 Hz.
    #expect(throws: ISACError.self) { try OFDMGrid(carrierHz: 1e3, subcarrierSpacingHz: 1e3, count: 8) }
}

// MARK: - QPSK

@Test func qpskUnitEnergyAndGray() {
    let c = QPSK.constellation
    #expect(abs(c.reduce(0) { $0 + $1.lengthSquared } / 4 - 1) < 1e-15)
    // Gray: points at the minimum distance √2 (unit energy) differ in exactly one bit.
    for i in 0..<4 { for j in 0..<4 where i != j {
        let d = (c[i] - c[j]).length
        let hamming = (i ^ j).nonzeroBitCount
        if abs(d - 2.0.squareRoot()) < 1e-12 { #expect(hamming == 1) } else { #expect(hamming == 2) }
    } }
}

@Test func qpskIndexMapMatchesBitMap() throws {
    // The documented table: q = b0 + 2 b1, b0 = sign bit of the real part, b1 of the imaginary part.
    let a = 1 / 2.0.squareRoot()
    for b0 in 0...1 { for b1 in 0...1 {
        let q = b0 + 2 * b1
        let x = QPSK.symbol(index: q)
        #expect(x == CDouble(Double(1 - 2 * b0) * a, Double(1 - 2 * b1) * a))
        #expect(try QPSK.modulate(bits: [UInt8(b0), UInt8(b1)]) == [x])
        #expect(QPSK.demodulateBits([x]) == [UInt8(b0), UInt8(b1)])
        // Scalar coherent decision through a known channel κ.
        let k = CDouble(-0.7, 0.4)
        #expect(QPSK.demodulateIndex(x * k, channel: k) == q)
    } }
}

@Test func qpskRoundTripAndML() throws {
    var rng = RandomSource(seed: 7)
    let bits = (0..<400).map { _ in UInt8(rng.integer(in: 0...1)) }
    let x = try QPSK.modulate(bits: bits)
    #expect(QPSK.demodulateBits(x) == bits)
    let idx = (0..<100).map { _ in rng.integer(in: 0...3) }
    #expect(QPSK.demodulate(try QPSK.modulate(indices: idx)) == idx)
    // ML decision equals brute-force nearest constellation point on noisy samples.
    for _ in 0..<2000 {
        let y = rng.complexGaussian(variance: 2)
        let brute = (0..<4).min { (y - QPSK.constellation[$0]).lengthSquared < (y - QPSK.constellation[$1]).lengthSquared }!
        #expect(QPSK.demodulateIndex(y) == brute)
    }
    // Coherent detection through a known channel.
    let kappa = (0..<100).map { _ in rng.complexGaussian() }
    let y = zip(try QPSK.modulate(indices: idx), kappa).map { $0 * $1 }
    #expect(try QPSK.demodulate(y, channel: kappa) == idx)
}

@Test func qpskRejectsBadInput() {
    #expect(throws: ISACError.self) { try QPSK.modulate(bits: [0, 1, 1]) }
    #expect(throws: ISACError.self) { try QPSK.modulate(bits: [0, 2]) }
    #expect(throws: ISACError.self) { try QPSK.modulate(indices: [4]) }
    #expect(throws: ISACError.self) { try QPSK.demodulate([.zero], channel: []) }
}

// MARK: - Reciprocal filtering

@Test func reciprocalFilterRecoversChannel() throws {
    var rng = RandomSource(seed: 3)
    let x = try QPSK.modulate(indices: (0..<16).map { $0 % 4 })
    let h = rng.complexGaussianVector(16)
    let y = zip(h, x).map { $0 * $1 }
    let hHat = try reciprocalFilter(received: y, transmitted: x)
    for s in 0..<16 { #expect((hHat[s] - h[s]).length < 1e-14) }
    // Matrix form: column s divided by x[s].
    let Y = Matrix<CDouble>(rows: 3, cols: 16) { n, s in h[s] * x[s] * CDouble(Double(n + 1), 0) }
    let F = try reciprocalFilter(received: Y, transmitted: x)
    for s in 0..<16 { for n in 0..<3 { #expect((F[n, s] - h[s] * CDouble(Double(n + 1), 0)).length < 1e-13) } }
    #expect(throws: ISACError.self) { try reciprocalFilter(received: y, transmitted: Array(x.dropLast())) }
    var xz = x; xz[5] = .zero
    #expect(throws: ISACError.self) { try reciprocalFilter(received: y, transmitted: xz) }
}

// MARK: - Rayleigh channel

@Test func powerDelayProfileNormalized() throws {
    let p = try RayleighChannel.powerDelayProfile(taps: 5)
    #expect(abs(p.reduce(0, +) - 1) < 1e-15)
    for l in 1..<5 { #expect(abs(p[l] / p[l - 1] - exp(-1.0)) < 1e-14) }
    let norm = (0..<5).reduce(0.0) { $0 + exp(-Double($1)) }
    #expect(abs(p[0] - 1 / norm) < 1e-15)
    #expect(throws: ISACError.self) { try RayleighChannel.powerDelayProfile(taps: 0) }
    #expect(throws: ISACError.self) { try RayleighChannel.powerDelayProfile(taps: 3, decayTaps: -1) }
}

@Test func frequencyResponseMatchesFFT() throws {
    var rng = RandomSource(seed: 11)
    let ch = try RayleighChannel.random(taps: 5, rng: &rng)
    let S = 64
    let H = try ch.frequencyResponse(subcarriers: S)
    var padded = ch.taps + [CDouble](repeating: .zero, count: S - 5)
    try FFTPlan(shape: [S]).forward(&padded)  // FFTW's forward DFT uses e^{−j2πsl/S}
    for s in 0..<S { #expect((H[s] - padded[s]).length < 1e-12) }
    // Parseval: (1/S) Σ|H[s]|² = Σ|h_l|².
    let eH = H.reduce(0) { $0 + $1.lengthSquared } / Double(S)
    let eh = ch.taps.reduce(0) { $0 + $1.lengthSquared }
    #expect(abs(eH - eh) < 1e-12)
    #expect(throws: ISACError.self) { try ch.frequencyResponse(subcarriers: 4) }
    #expect(throws: ISACError.self) { try ch.frequencyResponse(subcarriers: 0) }
}

@Test func rayleighTapStatistics() throws {
    // E|h_l|² = σ_l², E|H[s]|² = 1; each checked within 4 standard errors (|h|² ~ Exp(σ²) has sd σ²).
    let trials = 4000, L = 4
    let pdp = try RayleighChannel.powerDelayProfile(taps: L)
    var tapPower = [Double](repeating: 0, count: L)
    var h0Power = 0.0
    for t in 0..<trials {
        var rng = RandomSource(seed: 99, stream: UInt64(t))
        let ch = try RayleighChannel.random(taps: L, rng: &rng)
        for l in 0..<L { tapPower[l] += ch.taps[l].lengthSquared }
        h0Power += try ch.frequencyResponse(subcarriers: 16)[3].lengthSquared
    }
    for l in 0..<L {
        let m = tapPower[l] / Double(trials)
        #expect(abs(m - pdp[l]) < 4 * pdp[l] / Double(trials).squareRoot(), "tap \(l): \(m) vs \(pdp[l])")
    }
    #expect(abs(h0Power / Double(trials) - 1) < 4 / Double(trials).squareRoot())
}

// MARK: - AWGN

@Test func awgnVariance() throws {
    var rng = RandomSource(seed: 5)
    let n = 20000
    let x = [CDouble](repeating: CDouble(1, 0), count: n)
    let y = try AWGN.add(to: x, snrDB: 10, rng: &rng)
    let noisePower = zip(y, x).reduce(0) { $0 + ($1.0 - $1.1).lengthSquared } / Double(n)
    // N0 = 0.1; |n|² ~ Exp(N0) so the mean has standard error N0/√n.
    #expect(abs(noisePower - 0.1) < 4 * 0.1 / Double(n).squareRoot())
    // Measured signal power: scaled input of power 4 at 0 dB → N0 = 4.
    let x2 = [CDouble](repeating: CDouble(0, 2), count: n)
    let y2 = try AWGN.add(to: x2, snrDB: 0, signalPower: nil, rng: &rng)
    let np2 = zip(y2, x2).reduce(0) { $0 + ($1.0 - $1.1).lengthSquared } / Double(n)
    #expect(abs(np2 - 4) < 4 * 4 / Double(n).squareRoot())
    #expect(throws: ISACError.self) { try AWGN.add(to: x, snrDB: .nan, rng: &rng) }
    #expect(throws: ISACError.self) { try AWGN.noiseVariance(snrDB: 0, signalPower: 0) }
}

// MARK: - Ergodic rate, eq. (19)

@Test func ergodicRateMatchesPaperTableIII() throws {
    // K_tot = 64, γ̄_c = 15 dB (paper §IV, Table III and text).
    let published: [(Int, Double)] = [(2, 4.2400), (4, 4.1436), (8, 3.9467), (16, 3.5361)]
    for (ks, r) in published {
        let v = try ErgodicRate.exact(totalTones: 64, sensingTones: ks, snrDB: 15)
        // The published values sit 0.004–0.005 bit/s/Hz above the exact expectation for every K_s,
        // consistent with a Monte Carlo evaluation in the paper; 0.01 bounds that gap.
        #expect(abs(v - r) < 0.01, "K_s = \(ks): \(v) vs published \(r)")
    }
}

@Test func rayleighCapacityAgainstQuadrature() throws {
    // E[log2(1+ρX)], X ~ Exp(1) = ∫₀^∞ log2(1+ρx) e^{−x} dx; substitute x = −ln u on (0, 1].
    for rho in [0.01, 0.5, 3.0, 31.6, 1000.0] {
        let n = 200_000
        var acc = 0.0
        for i in 0..<n {
            let u = (Double(i) + 0.5) / Double(n)
            acc += log2(1 + rho * -log(u))
        }
        let ref = acc / Double(n)
        let v = try ErgodicRate.rayleighCapacity(snrLinear: rho)
        #expect(abs(v - ref) < 2e-4 * Swift.max(1, ref), "ρ = \(rho): \(v) vs \(ref)")
    }
    // High-SNR asymptote log2 ρ − γ/ln 2 and low-SNR slope ρ/ln 2.
    let rho = 1e6
    // e^{1/ρ}E1(1/ρ) = ln ρ − γ + (ln ρ − γ + 1)/ρ + O(ln ρ/ρ²).
    let g = 0.5772156649015329
    let asym = (log(rho) - g + (log(rho) - g + 1) / rho) / log(2.0)
    #expect(abs(try ErgodicRate.rayleighCapacity(snrLinear: rho) - asym) < 1e-9)
    let small = 1e-6
    #expect(abs(try ErgodicRate.rayleighCapacity(snrLinear: small) - small / log(2.0)) < 1e-11)
    #expect(try ErgodicRate.rayleighCapacity(snrLinear: 0) == 0)
}

@Test func ergodicRateClosedFormVsMonteCarlo() throws {
    for (ktot, ks, snr) in [(64, 4, 15.0), (16, 0, 0.0), (8, 7, -5.0)] {
        let exact = try ErgodicRate.exact(totalTones: ktot, sensingTones: ks, snrDB: snr)
        let mc = try ErgodicRate.monteCarlo(totalTones: ktot, sensingTones: ks, snrDB: snr, trials: 3000, seed: 42)
        #expect(mc.standardError > 0)
        #expect(abs(mc.mean - exact) < 3 * mc.standardError, "(\(ktot),\(ks),\(snr)): MC \(mc.mean) ± \(mc.standardError) vs \(exact)")
        // Same seed ⇒ bit-identical estimate.
        let again = try ErgodicRate.monteCarlo(totalTones: ktot, sensingTones: ks, snrDB: snr, trials: 3000, seed: 42)
        #expect(again.mean == mc.mean)
    }
}

@Test func ergodicRateStructure() throws {
    // K_s = 0 is the plain Rayleigh capacity at γ̄_c; K_c/K_tot scaling with boosted SNR otherwise.
    let full = try ErgodicRate.exact(totalTones: 64, sensingTones: 0, snrDB: 15)
    #expect(abs(full - (try ErgodicRate.rayleighCapacity(snrLinear: pow(10, 1.5)))) < 1e-14)
    let r8 = try ErgodicRate.exact(totalTones: 64, sensingTones: 8, snrDB: 15)
    let manual = 56.0 / 64.0 * (try ErgodicRate.rayleighCapacity(snrLinear: pow(10, 1.5) * 64 / 56))
    #expect(abs(r8 - manual) < 1e-14)
    var previous = Double.infinity
    for ks in 0..<64 {
        let r = try ErgodicRate.exact(totalTones: 64, sensingTones: ks, snrDB: 15)
        #expect(r < previous && r > 0)
        previous = r
    }
    // Very low SNR stays finite (scaled E1 avoids e^{1/ρ}·E1(1/ρ) = ∞·0).
    let low = try ErgodicRate.exact(totalTones: 64, sensingTones: 4, snrDB: -40)
    #expect(low.isFinite && low > 0 && abs(low - 60.0 / 64 * 1e-4 * 64 / 60 / log(2.0)) < 1e-7)
}

@Test func ergodicRateRejectsBadInput() {
    func name(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let ISACError.invalidParameter(n, _, _) { return n } catch { return "?" }
    }
    #expect(name { _ = try ErgodicRate.exact(totalTones: 64, sensingTones: 64, snrDB: 15) } == "--sensing-tones")
    #expect(name { _ = try ErgodicRate.exact(totalTones: 64, sensingTones: 100, snrDB: 15) } == "--sensing-tones")
    #expect(name { _ = try ErgodicRate.exact(totalTones: 64, sensingTones: -1, snrDB: 15) } == "--sensing-tones")
    #expect(name { _ = try ErgodicRate.exact(totalTones: 0, sensingTones: 0, snrDB: 15) } == "--total-tones")
    #expect(name { _ = try ErgodicRate.exact(totalTones: -4, sensingTones: 0, snrDB: 15) } == "--total-tones")
    #expect(name { _ = try ErgodicRate.exact(totalTones: 64, sensingTones: 4, snrDB: .infinity) } == "--snr-db")
    #expect(name { _ = try ErgodicRate.exact(totalTones: 64, sensingTones: 4, snrDB: .nan) } == "--snr-db")
    #expect(name { _ = try ErgodicRate.monteCarlo(totalTones: 64, sensingTones: 4, snrDB: 15, trials: 0) } == "--monte-carlo")
}
