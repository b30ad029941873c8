import Foundation
import Numerics

/// Special functions used by the physical models (Fresnel-zone steering, ergodic rates) and
/// small scalar helpers (sinc, decibels). Double precision throughout.
public enum Special {
    // MARK: - Fresnel integrals

    /// Fresnel integrals with the π/2 convention (Abramowitz & Stegun 7.3.1–7.3.2, SciPy's `fresnel`):
    ///
    ///     C(x) = ∫₀ˣ cos(π t² / 2) dt,   S(x) = ∫₀ˣ sin(π t² / 2) dt.
    ///
    /// Both are odd, C(x), S(x) → ½ as x → +∞ (oscillating with amplitude ≈ 1/(π x)). Accuracy is
    /// ~1e-15 absolute for |x| ≤ 1.5 (power series) and ~1e-14 beyond (continued fraction for the
    /// complementary error function, modified Lentz), so comfortably below 1e-10 for all finite x.
    ///
    /// - Parameter x: argument (dimensionless), any finite value; NaN propagates.
    /// - Returns: `(c: C(x), s: S(x))`.
    public static func fresnel(_ x: Double) -> (c: Double, s: Double) {
        if x.isNaN { return (.nan, .nan) }
        if x.isInfinite { return x > 0 ? (0.5, 0.5) : (-0.5, -0.5) }
        let ax = abs(x)
        var c: Double, s: Double
        if ax < 1e-150 {
            // C(x) = x + O(x⁵), S(x) = π x³/6 + O(x⁷); x³ would underflow anyway.
            c = ax; s = 0
        } else if ax <= 1.5 {
            (c, s) = fresnelSeries(ax)
        } else if ax < 1e10 {
            (c, s) = fresnelContinuedFraction(ax)
        } else {
            // Leading asymptotic term: ½ ± {sin, cos}(πx²/2)/(πx); the next term is O(x⁻³) < 1e-30.
            let (sn, cs) = sinCosHalfPiSquare(ax)
            let f = 1 / (Double.pi * ax)
            c = 0.5 + f * sn
            s = 0.5 - f * cs
        }
        return x < 0 ? (-c, -s) : (c, s)
    }

    /// C(x) = ∫₀ˣ cos(π t²/2) dt (see `fresnel(_:)`).
    public static func fresnelC(_ x: Double) -> Double { fresnel(x).c }
    /// S(x) = ∫₀ˣ sin(π t²/2) dt (see `fresnel(_:)`).
    public static func fresnelS(_ x: Double) -> Double { fresnel(x).s }

    /// sin and cos of (π/2)·x² with the argument reduced exactly (x² = p + e via FMA, p mod 4 is
    /// exact), so the phase keeps full precision even when π x²/2 is ~1e20.
    @usableFromInline
    static func sinCosHalfPiSquare(_ x: Double) -> (sin: Double, cos: Double) {
        let p = x * x
        let err = fma(x, x, -p)
        var t = fmod(p, 4.0) + err
        if t >= 4 { t -= 4 }
        let ph = 0.5 * Double.pi * t
        return (Foundation.sin(ph), Foundation.cos(ph))
    }

    /// Power series C = Σ (−1)ᵏ (π/2)^{2k} x^{4k+1} / ((2k)! (4k+1)), S likewise with odd powers.
    private static func fresnelSeries(_ ax: Double) -> (Double, Double) {
        // term_n = (π x²/2)^n / n! · x ; even n feed C, odd n feed S, alternating in pairs.
        let fact = 0.5 * Double.pi * ax * ax
        var term = ax
        var sumC = ax, sumS = 0.0
        var n = 1
        while n < 200 {
            term *= fact / Double(n)
            let contribution = term / Double(2 * n + 1)
            // n mod 4: 1 → +S, 2 → −C, 3 → −S, 0 → +C
            switch n % 4 {
            case 1: sumS += contribution
            case 2: sumC -= contribution
            case 3: sumS -= contribution
            default: sumC += contribution
            }
            if contribution < 1e-17 * Swift.max(abs(sumC), abs(sumS)) { break }
            n += 1
        }
        return (sumC, sumS)
    }

    /// Continued fraction for erfc at z = (1 − i)√π x / 2 (Numerical Recipes §6.8 `frenel`),
    /// evaluated by the modified Lentz method, then C + iS = (1+i)/2 · [1 − e^{iπx²/2}·h·(1 − i)x].
    private static func fresnelContinuedFraction(_ ax: Double) -> (Double, Double) {
        let tiny = 1e-300
        let pix2 = Double.pi * ax * ax
        var b = Complex<Double>(1, -pix2)
        var cc = Complex<Double>(1 / tiny, 0)
        var d = Complex<Double>(1, 0) / b
        var h = d
        var n = -1.0
        for _ in 2..<500 {
            n += 2
            let a = -n * (n + 1)
            b = b + Complex(4, 0)
            d = Complex<Double>(1, 0) / (Complex(a, 0) * d + b)
            cc = b + Complex(a, 0) / cc
            let del = cc * d
            h = h * del
            if abs(del.real - 1) + abs(del.imaginary) < 1e-16 { break }
        }
        h = h * Complex(ax, -ax)
        let (sn, cs) = sinCosHalfPiSquare(ax)
        let cs2 = Complex<Double>(0.5, 0.5) * (Complex(1, 0) - Complex(cs, sn) * h)
        return (cs2.real, cs2.imaginary)
    }

    // MARK: - Exponential integral

    /// Exponential integral E₁(x) = ∫ₓ^∞ e^{−t}/t dt for x > 0.
    ///
    /// Series E₁(x) = −γ − ln x − Σ_{k≥1} (−x)ᵏ/(k·k!) for x ≤ 1, continued fraction (modified
    /// Lentz) for x > 1; relative error ~1e-15. E₁(0) = +∞; E₁ underflows to 0 for x ≳ 740.
    ///
    /// - Throws: `ISACError.invalidParameter` for x < 0 or NaN (E₁ is complex/undefined there).
    public static func expIntegralE1(_ x: Double) throws -> Double {
        guard !x.isNaN, x >= 0 else {
            throw ISACError.invalidParameter(name: "x", value: "\(x)", valid: "E1(x) needs x >= 0")
        }
        if x == 0 { return .infinity }
        if x.isInfinite { return 0 }
        if x <= 1 { return e1Series(x) }
        return Foundation.exp(-x) * e1ContinuedFractionScaled(x)
    }

    /// Scaled exponential integral eˣ·E₁(x) for x > 0, computed without forming eˣ or E₁(x)
    /// separately, so it stays finite for large x (where eˣ overflows and E₁ underflows).
    ///
    /// This is the kernel of the Rayleigh ergodic capacity: for |h|² ~ Exp(1),
    /// E[ln(1 + ρ|h|²)] = e^{1/ρ} E₁(1/ρ). Behaves like 1/x·(1 − 1/x + 2/x² − …) for large x and
    /// −γ − ln x for small x.
    ///
    /// - Throws: `ISACError.invalidParameter` for x ≤ 0 or NaN.
    public static func expScaledE1(_ x: Double) throws -> Double {
        guard !x.isNaN, x > 0 else {
            throw ISACError.invalidParameter(name: "x", value: "\(x)", valid: "e^x E1(x) needs x > 0")
        }
        if x.isInfinite { return 0 }
        if x <= 1 { return Foundation.exp(x) * e1Series(x) }
        return e1ContinuedFractionScaled(x)
    }

    private static let eulerGamma = 0.57721566490153286061

    private static func e1Series(_ x: Double) -> Double {
        var sum = 0.0
        var term = 1.0
        var k = 1.0
        while k < 200 {
            term *= -x / k  // (−x)^k / k!
            let c = term / k
            sum += c
            if abs(c) < 1e-17 * abs(sum) { break }
            k += 1
        }
        return -eulerGamma - Foundation.log(x) - sum
    }

    /// eˣ E₁(x) = 1/(x+1− 1²/(x+3− 2²/(x+5− …))) (A&S 5.1.22 in even form), modified Lentz.
    private static func e1ContinuedFractionScaled(_ x: Double) -> Double {
        let tiny = 1e-300
        var b = x + 1
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        var i = 1.0
        while i < 10_000 {
            let a = -i * i
            b += 2
            d = 1 / (a * d + b)
            c = b + a / c
            let del = c * d
            h *= del
            if abs(del - 1) < 1e-16 { break }
            i += 1
        }
        return h
    }

    // MARK: - Small helpers

    /// Normalized sinc: sinc(x) = sin(π x)/(π x), sinc(0) = 1 (NumPy's `np.sinc`). Zeros at nonzero integers.
    @inlinable
    public static func sinc(_ x: Double) -> Double {
        if abs(x) < 1e-8 { return 1 - (Double.pi * x) * (Double.pi * x) / 6 }
        let px = Double.pi * x
        return Foundation.sin(px) / px
    }

    /// Power ratio → decibels: 10·log₁₀(p). p = 0 gives −∞.
    @inlinable public static func powerToDB(_ p: Double) -> Double { 10 * Foundation.log10(p) }
    /// Decibels → power ratio: 10^{dB/10}.
    @inlinable public static func dbToPower(_ db: Double) -> Double { Foundation.pow(10, db / 10) }
    /// Amplitude ratio → decibels: 20·log₁₀(|a|).
    @inlinable public static func amplitudeToDB(_ a: Double) -> Double { 20 * Foundation.log10(abs(a)) }
    /// Decibels → amplitude ratio: 10^{dB/20}.
    @inlinable public static func dbToAmplitude(_ db: Double) -> Double { Foundation.pow(10, db / 20) }
}
