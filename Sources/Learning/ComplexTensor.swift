import _Differentiation
import Foundation

/// A complex tensor as a (real, imaginary) pair of float32 tensors of one shape (`re.shape == im.shape`).
///
/// Gradients follow the real-pair convention: the tangent of `z = x + jy` is (∂L/∂x, ∂L/∂y), i.e.
/// twice the Wirtinger derivative ∂L/∂z̄ — exactly what a real-valued optimizer needs. Used for
/// steering vectors whose phases depend on learnable positions: a = exp(j·k·d·sin θ).
public struct ComplexTensor: Differentiable {
    /// Real part.
    public var re: Tensor
    /// Imaginary part (same shape as `re`).
    public var im: Tensor
    /// Complex tensor re + j·im.
    @differentiable(reverse)
    public init(re: Tensor, im: Tensor) {
        self.re = re; self.im = im
    }
    /// Shape (of `re`).
    public var shape: [Int] { re.shape }

    /// e^{jθ} = cos θ + j sin θ for real phases θ (radians).
    @differentiable(reverse)
    public static func expi(_ phase: Tensor) -> ComplexTensor {
        ComplexTensor(re: phase.cos(), im: phase.sin())
    }

    /// e^{z} = e^{x}(cos y + j sin y).
    @differentiable(reverse)
    public func exp() -> ComplexTensor {
        let m = re.exp()
        return ComplexTensor(re: m * im.cos(), im: m * im.sin())
    }

    /// Elementwise (broadcasting) product (a + jb)(c + jd) = (ac − bd) + j(ad + bc).
    @differentiable(reverse)
    public static func * (lhs: ComplexTensor, rhs: ComplexTensor) -> ComplexTensor {
        ComplexTensor(re: lhs.re * rhs.re - lhs.im * rhs.im, im: lhs.re * rhs.im + lhs.im * rhs.re)
    }

    /// Elementwise complex sum.
    @differentiable(reverse)
    public static func + (lhs: ComplexTensor, rhs: ComplexTensor) -> ComplexTensor {
        ComplexTensor(re: lhs.re + rhs.re, im: lhs.im + rhs.im)
    }

    /// Elementwise complex difference.
    @differentiable(reverse)
    public static func - (lhs: ComplexTensor, rhs: ComplexTensor) -> ComplexTensor {
        ComplexTensor(re: lhs.re - rhs.re, im: lhs.im - rhs.im)
    }

    /// Complex conjugate.
    @differentiable(reverse)
    public func conjugate() -> ComplexTensor { ComplexTensor(re: re, im: -im) }

    /// |z|² = x² + y² (real tensor).
    @differentiable(reverse)
    public func magnitudeSquared() -> Tensor { re.squared() + im.squared() }
}

/// Complex matrix product C = op(A)·op(B) with four real sgemms:
/// Re C = ArBr − AiBi, Im C = ArBi + AiBr. `adjointA` uses the conjugate transpose Aᴴ
/// (e.g. beamformer/matched-filter outputs aᴴy). Shapes as in `matmul`.
@differentiable(reverse)
public func complexMatmul(_ a: ComplexTensor, _ b: ComplexTensor, adjointA: Bool = false) -> ComplexTensor {
    if adjointA {
        // Aᴴ = Arᵀ − j Aiᵀ
        return ComplexTensor(
            re: matmul(a.re, b.re, transposeA: true) + matmul(a.im, b.im, transposeA: true),
            im: matmul(a.re, b.im, transposeA: true) - matmul(a.im, b.re, transposeA: true))
    }
    return ComplexTensor(re: matmul(a.re, b.re) - matmul(a.im, b.im),
                         im: matmul(a.re, b.im) + matmul(a.im, b.re))
}
