// A dense LU factorisation with partial pivoting that a long call can stop
// between blocks of work (docs/guide/errors.md#ctrl-c). Eigen's PartialPivLU
// runs uninterrupted: at n = 20 001 (the Rosenbrock flow at m = 10⁴) one
// factorisation is minutes of work, during which Ctrl-C would be ignored.
//
// The algorithm is LAPACK's right-looking blocked getrf: factor a panel of nb
// columns (recursively) with row pivoting over the whole remaining column, apply its row
// swaps to the entire rows, solve the panel's unit lower triangle into the
// block row to its right, and subtract the product of the panel and that block
// row from the trailing matrix. The pivots are those of unblocked partial
// pivoting (blocking only reorders the updates), so the backward error is that
// of Eigen's PartialPivLU. The trailing update is done in column chunks, with a
// poll between chunks, so that no uninterrupted piece exceeds ~n·nb·chunk flops.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <vector>

#include "ttnn/interrupt.hpp"

namespace ttnn {

class DenseLU {
public:
    // Factors the square matrix a (copied). Returns false, with the factors
    // unusable, when poll() asked to stop; true otherwise. A singular matrix
    // factors (a zero pivot is kept, as Eigen does) and its solves give inf/NaN,
    // which the callers' finiteness checks catch.
    bool compute(const Eigen::MatrixXd& a, const Poll& poll = Poll()) {
        // Copied by blocks of columns: the first copy touches fresh pages,
        // which at the largest n outlasts the Ctrl-C bound.
        const Eigen::Index n = a.rows();
        lu_.resize(n, a.cols());
        for (Eigen::Index c = 0; c < a.cols(); c += kChunk) {
            const Eigen::Index cb = std::min(kChunk, a.cols() - c);
            lu_.middleCols(c, cb) = a.middleCols(c, cb);
            if (poll && poll()) return false;
        }
        return factor(poll);
    }

    // x ← A⁻¹ x for the A of the last successful compute().
    void solve_in_place(Eigen::VectorXd& x) const {
        const Eigen::Index n = lu_.rows();
        for (Eigen::Index k = 0; k < n; ++k) {
            if (piv_[k] != k) std::swap(x[k], x[piv_[k]]);
        }
        lu_.triangularView<Eigen::UnitLower>().solveInPlace(x);
        lu_.triangularView<Eigen::Upper>().solveInPlace(x);
    }

    Eigen::VectorXd solve(const Eigen::VectorXd& b) const {
        Eigen::VectorXd x = b;
        solve_in_place(x);
        return x;
    }

    // L (unit lower) and U packed, and the row interchanges: row k was swapped
    // with row pivots()[k] at step k (LAPACK's ipiv, 0-based).
    const Eigen::MatrixXd& packed() const { return lu_; }
    const std::vector<Eigen::Index>& pivots() const { return piv_; }

private:
    static constexpr Eigen::Index kPanel = 128;  // panel width nb
    static constexpr Eigen::Index kLeaf = 16;    // unblocked below this panel width
    static constexpr Eigen::Index kChunk = 256;  // trailing-update columns between polls

    bool factor(const Poll& poll) {
        const Eigen::Index n = lu_.rows();
        piv_.assign(static_cast<std::size_t>(n), 0);
        for (Eigen::Index k0 = 0; k0 < n; k0 += kPanel) {
            const Eigen::Index kb = std::min(kPanel, n - k0);
            factor_panel(k0, kb);
            if (poll && poll()) return false;
            const Eigen::Index rest = n - k0 - kb;
            if (rest == 0) break;
            // U12 = L11⁻¹ A12, then A22 −= L21 U12 chunk by chunk.
            auto l11 = lu_.block(k0, k0, kb, kb).triangularView<Eigen::UnitLower>();
            const auto l21 = lu_.block(k0 + kb, k0, rest, kb);
            for (Eigen::Index c = 0; c < rest; c += kChunk) {
                const Eigen::Index cb = std::min(kChunk, rest - c);
                auto u12 = lu_.block(k0, k0 + kb + c, kb, cb);
                l11.solveInPlace(u12);
                lu_.block(k0 + kb, k0 + kb + c, rest, cb).noalias() -= l21 * u12;
                if (poll && poll()) return false;
            }
        }
        return true;
    }

    // Partial pivoting on columns k0..k0+kb−1, rows k0..n−1, recursively (as
    // Eigen and LAPACK's getrf2 do, so that most of the panel's work is a
    // matrix product): the left half, its update of the right half, the right
    // half. Each interchange swaps entire rows (the factored part left of the
    // panel and the not yet updated part right of it alike, as getrf's laswp).
    void factor_panel(Eigen::Index k0, Eigen::Index kb) {
        const Eigen::Index n = lu_.rows();
        if (kb > kLeaf) {
            const Eigen::Index h = kb / 2;
            factor_panel(k0, h);
            auto u12 = lu_.block(k0, k0 + h, h, kb - h);
            lu_.block(k0, k0, h, h).triangularView<Eigen::UnitLower>().solveInPlace(u12);
            lu_.block(k0 + h, k0 + h, n - k0 - h, kb - h).noalias() -=
                lu_.block(k0 + h, k0, n - k0 - h, h) * u12;
            factor_panel(k0 + h, kb - h);
            return;
        }
        for (Eigen::Index j = k0; j < k0 + kb; ++j) {
            Eigen::Index p = 0;
            lu_.col(j).tail(n - j).cwiseAbs().maxCoeff(&p);
            p += j;
            piv_[static_cast<std::size_t>(j)] = p;
            if (p != j) lu_.row(j).swap(lu_.row(p));
            const double pivot = lu_(j, j);
            const Eigen::Index below = n - j - 1;
            if (pivot != 0.0 && below > 0) lu_.col(j).tail(below) /= pivot;
            const Eigen::Index right = k0 + kb - j - 1;  // panel columns right of j
            if (below > 0 && right > 0) {
                lu_.block(j + 1, j + 1, below, right).noalias() -=
                    lu_.col(j).tail(below) * lu_.row(j).segment(j + 1, right);
            }
        }
    }

    Eigen::MatrixXd lu_;
    std::vector<Eigen::Index> piv_;
};

}  // namespace ttnn
