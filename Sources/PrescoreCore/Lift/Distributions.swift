import RealModule

/// The distribution functions the lift report's tests need, in double precision: the standard
/// normal, Student's t and chi-square tails, and the t quantile. Built on swift-numerics'
/// `erfc` and `logGamma`; the incomplete beta and gamma functions by their continued fractions
/// (Numerical Recipes §6.2, §6.4), accurate to about 1e-12 relative, far below the 1e-6 the
/// reports are held to against SciPy.
public enum Distributions {
    /// z(0.975), the two-sided 95% normal quantile.
    public static let z975 = 1.959963984540054
    /// z(0.8), for 80% power.
    public static let z80 = 0.8416212335729143

    /// P(Z > z) for a standard normal Z.
    public static func normalUpperTail(_ z: Double) -> Double {
        0.5 * Double.erfc(z / 2.0.squareRoot())
    }

    /// Two-sided p-value of a standard normal statistic.
    public static func normalTwoSided(_ z: Double) -> Double {
        min(1, 2 * normalUpperTail(abs(z)))
    }

    /// Two-sided p-value of Student's t with `df` degrees of freedom: I_{df/(df+t²)}(df/2, 1/2).
    public static func studentTwoSided(_ t: Double, df: Double) -> Double {
        guard t.isFinite else { return t.isNaN ? .nan : 0 }
        return min(1, regularizedBeta(df / (df + t * t), a: df / 2, b: 0.5))
    }

    /// The t quantile q with P(T ≤ q) = `probability` (above 0.5), by bisection on the tail.
    public static func studentQuantile(_ probability: Double, df: Double) -> Double {
        let tail = 2 * (1 - probability)
        var low = 0.0
        var high = 1.0
        while studentTwoSided(high, df: df) > tail { high *= 2 }
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if studentTwoSided(middle, df: df) > tail { low = middle } else { high = middle }
            if high - low < 1e-14 * max(1, high) { break }
        }
        return (low + high) / 2
    }

    /// P(X > x) for chi-square X with `df` degrees of freedom: Q(df/2, x/2).
    public static func chiSquareUpperTail(_ x: Double, df: Double) -> Double {
        guard x > 0 else { return 1 }
        return regularizedGammaQ(df / 2, x / 2)
    }

    /// I_x(a, b), the regularized incomplete beta function.
    static func regularizedBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront =
            Double.logGamma(a + b) - Double.logGamma(a) - Double.logGamma(b) + a * Double.log(x)
            + b * Double.log(1 - x)
        let front = Double.exp(logFront)
        if x < (a + 1) / (a + b + 2) {
            return front * betaContinuedFraction(x, a: a, b: b) / a
        }
        return 1 - front * betaContinuedFraction(1 - x, a: b, b: a) / b
    }

    private static func betaContinuedFraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var result = d
        for m in 1...10_000 {
            let m = Double(m)
            let even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + even * d
            if abs(d) < tiny { d = tiny }
            c = 1 + even / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            result *= d * c
            let odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + odd * d
            if abs(d) < tiny { d = tiny }
            c = 1 + odd / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let step = d * c
            result *= step
            if abs(step - 1) < 1e-15 { break }
        }
        return result
    }

    /// Q(a, x) = Γ(a, x)/Γ(a), the regularized upper incomplete gamma function.
    static func regularizedGammaQ(_ a: Double, _ x: Double) -> Double {
        if x < a + 1 {  // the series for P converges fast here
            var term = 1 / a
            var sum = term
            var n = a
            for _ in 0..<10_000 {
                n += 1
                term *= x / n
                sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            let p = sum * Double.exp(-x + a * Double.log(x) - Double.logGamma(a))
            return max(0, 1 - p)
        }
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var result = d
        for i in 1...10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let step = d * c
            result *= step
            if abs(step - 1) < 1e-15 { break }
        }
        return Double.exp(-x + a * Double.log(x) - Double.logGamma(a)) * result
    }
}
