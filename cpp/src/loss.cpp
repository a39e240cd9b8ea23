#include "ttnn/loss.hpp"

#include <algorithm>
#include <cstddef>
#include <exception>
#include <limits>
#include <numeric>
#include <optional>
#include <vector>

#include "ttnn/inner_threads.hpp"
#include "ttnn/quadrature.hpp"

// The exact loss and its gradient in O(m + n) after the sort (docs/maths/exact-loss.md#cost).
//
// The pieces of quadrature.hpp are swept left to right, as before, but the
// neurons inside their windows are no longer evaluated one by one at every
// node. Inside one piece each window neuron's σ_η is one polynomial of degree
// ≤ 3 in x, so their sum is a polynomial whose coefficients are power sums of
// the neurons' offsets, kept as running sums ("groups"). The offsets are taken
// from an anchor c in units of η, and the anchor moves forward by at least η/2
// at a time (an "epoch"), where the sums are recomputed from the group's
// members: every offset and every node then stays within O(1) of c in units of
// η, so no power sum is ever amplified by a large shift and the rounding stays
// of the order of ε Σ |a_j| over the group. Each neuron is a member of an
// epoch's recomputation at most twice, so the recomputations cost O(m).
//
// The gradient is the transpose: per piece, the moments ∫ r z^i (z = (x − c)/η,
// r = f − f*) are added to running prefix sums P_i, and a neuron's window
// integrals are read off P at the pieces where its phase opens and closes.
// relu has no window and never saturates: f is linear on each piece, kept as
// its value and slope at the piece's left end, and its gradient entries are
// suffix moments of r about each piece's left end, summed right to left.
//
// Threads: the pieces are cut into parts of kPart pieces (a partition that
// depends only on the number of pieces); every part starts its sweep from its
// own first point (binary searches and a fresh anchor) and writes its own
// partial results, which are combined in part order. So the result does not
// depend on the number of threads (inner_threads.hpp). At the sizes that share
// the parts out, the work around the sweep is shared too: the sort and the
// merge of the sweep's points run by fixed blocks (each block's result is the
// serial one: these steps do no arithmetic that a partition could reorder),
// every part sums its own suffix of ∫ r (the windowed tails, relu's moments)
// and the parts' sums are chained in part order, and the final pass over the
// neurons runs by blocks of neurons.

namespace ttnn {

namespace {

using GL = GaussLegendre4;

// Pieces per part. Small enough that m = 10⁴ (~3·10⁴ pieces) gives several
// parts to share, large enough that a part's start (binary searches and the
// anchor's recomputation over ~a window of neurons) is negligible.
constexpr std::size_t kPart = 4096;
// Parts from which threads are used: below it, starting and joining a team of
// threads costs more than the parts' work (bench/RESULTS.md, "The exact loss at
// large m").
constexpr std::size_t kParallelParts = 16;
// Pieces between two polls for Ctrl-C (~0.1–0.3 ms of work).
constexpr std::size_t kPollEvery = 2048;
// Neurons (or sweep points) per block of the set-up and of the final pass.
constexpr std::size_t kBlock = 8192;

// fn(b) for b = 0 … n − 1, on up to `nthreads` threads. Every fn(b) must write
// only its own block's results, so the outcome does not depend on the threads.
template <class Fn>
void for_blocks(std::size_t n, int nthreads, const Fn& fn) {
    if (nthreads <= 1 || n <= 1) {
        for (std::size_t b = 0; b < n; ++b) fn(b);
        return;
    }
    std::vector<std::exception_ptr> errors(n);
    const auto nn = static_cast<std::ptrdiff_t>(n);
    const int team = static_cast<int>(std::min<std::size_t>(n, static_cast<std::size_t>(nthreads)));
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
    for (std::ptrdiff_t b = 0; b < nn; ++b) {
        try {
            fn(static_cast<std::size_t>(b));
        } catch (...) {  // (bad_alloc) never let an exception leave the region
            errors[static_cast<std::size_t>(b)] = std::current_exception();
        }
    }
    for (const auto& err : errors) {
        if (err) std::rethrow_exception(err);
    }
}

// The order of u, ties by index (std::stable_sort's order), on threads: blocks
// of kBlock sorted, then merged pairwise (std::merge takes the first range's
// element on a tie, so it keeps that order). The order is unique (u is
// finite), so it is the serial sort's whatever the threads.
void sort_order(const double* u, std::vector<int>& order, std::vector<int>& tmp, int nthreads) {
    const std::size_t m = order.size();
    const auto less = [u](int i, int j) { return u[i] < u[j]; };
    const auto at = [&order](std::size_t i) {
        return order.begin() + static_cast<std::ptrdiff_t>(i);
    };
    for_blocks((m + kBlock - 1) / kBlock, nthreads, [&](std::size_t b) {
        std::stable_sort(at(b * kBlock), at(std::min(m, (b + 1) * kBlock)), less);
    });
    tmp.resize(m);
    for (std::size_t w = kBlock; w < m; w *= 2) {
        for_blocks((m + 2 * w - 1) / (2 * w), nthreads, [&](std::size_t p) {
            const std::size_t i0 = 2 * w * p;
            const std::size_t i1 = std::min(m, i0 + w), i2 = std::min(m, i0 + 2 * w);
            std::merge(at(i0), at(i1), at(i1), at(i2),
                       tmp.begin() + static_cast<std::ptrdiff_t>(i0), less);
        });
        order.swap(tmp);
    }
}

// A network in the order of u: enter e = u − η/2, middle u, leave l = u + η/2
// (the same expressions as quadrature_impl.hpp, so the same points), and the
// running sums of a that the saturated part of f needs.
struct Sorted {
    Activation act = Activation::cubic;
    double eta = 1.0, inv_eta = 1.0, half = 0.0;
    std::vector<int> order, order_tmp;
    std::vector<double> u, a, e, l;
    std::vector<double> pre;  // pre[n] = a_0 + Σ_{k<n} a_(k), summed in this order
    std::vector<double> slope;  // relu: slope[n] = Σ_{k<n} a_(k)

    // Refills the arrays (their capacity is kept: see Scratch); only the sort
    // uses `nthreads`. The rest stays one serial loop: it is mostly a running
    // sum (f's saturated part, one chain whose bits must not change), and at
    // m = 10⁵ it costs less than waking the threads twice on a busy machine.
    void assign(const Network& net, int nthreads) {
        act = net.act;
        eta = net.eta;
        const int m = static_cast<int>(net.m());
        const bool windowed = is_windowed(act);
        inv_eta = 1.0 / eta;
        half = windowed ? 0.5 * eta : 0.0;
        order.resize(m);
        std::iota(order.begin(), order.end(), 0);
        // Network.init and most runs keep u sorted: skip the sort then.
        const bool sorted = std::is_sorted(net.u.data(), net.u.data() + m);
        if (!sorted) {
            if (nthreads > 1) {
                sort_order(net.u.data(), order, order_tmp, nthreads);
            } else {
                std::stable_sort(order.begin(), order.end(),
                                 [&](int i, int j) { return net.u[i] < net.u[j]; });
            }
        }
        u.resize(m);
        a.resize(m);
        e.resize(m);
        l.resize(m);
        pre.resize(m + 1);
        pre[0] = net.a[0];
        for (int k = 0; k < m; ++k) {
            u[k] = net.u[order[k]];
            a[k] = net.a[order[k] + 1];
            e[k] = u[k] - half;
            l[k] = windowed ? u[k] + half : std::numeric_limits<double>::infinity();
            pre[k + 1] = pre[k] + a[k];
        }
        slope.clear();
        if (!windowed) {
            slope.resize(m + 1);
            slope[0] = 0.0;
            for (int k = 0; k < m; ++k) slope[k + 1] = slope[k] + a[k];
        }
    }
    std::size_t m() const { return u.size(); }
};

// Number of entries of the sorted v that are ≤ x (the sweep's test: a state
// changes at a point, so `≤ lo` decides a piece).
inline std::size_t count_le(const std::vector<double>& v, double x) {
    return static_cast<std::size_t>(std::upper_bound(v.begin(), v.end(), x) - v.begin());
}

// Where a part's gradient contributions go: one slot per neuron (sorted index)
// that the part touches, [base, base + ga.size()).
struct GradSink {
    std::size_t base = 0;
    std::vector<double> ga, gu;
};

// The sweep state of one network over increasing points: which neurons are in
// which phase, and the polynomial of f on the current piece.
//
// cubic: L = [nU, nE) (rising half, σ = 4 (z + t_j)³, t_j = (c − e_j)/η),
//        R = [nL, nU) (falling half, σ = 1 − 4 (s_j − z)³, s_j = (l_j − c)/η; its
//        constant 1 is counted with the saturated neurons from u_j on),
//        constant part pre[nU].
// ramp:  L = [nL, nE) (σ = z + t_j), constant part pre[nL].
// relu:  f(x) = F + S (x − p) on [p, ·): every neuron with u_j ≤ p.
template <Activation A, bool Grad>
struct NetSweep {
    static constexpr bool windowed = is_windowed(A);
    static constexpr int deg = A == Activation::cubic ? 3 : 1;

    const Sorted& s;
    std::size_t nE = 0, nU = 0, nL = 0;
    double c = 0.0;  // anchor
    double TL[4] = {0, 0, 0, 0}, TR[4] = {0, 0, 0, 0};
    double P[4] = {0, 0, 0, 0};  // Grad: Σ over this epoch's pieces so far of ∫ r z^i
    double F = 0.0, S = 0.0, p = 0.0;  // relu
    GradSink* sink = nullptr;

    explicit NetSweep(const Sorted& sorted) : s(sorted) {}

    // The state on the piece starting at `lo` (relu: F is f(lo), given).
    void start(double lo, double relu_f = 0.0) {
        nU = count_le(s.u, lo);
        if constexpr (windowed) {
            nE = count_le(s.e, lo);
            nL = count_le(s.l, lo);
            reanchor(lo);
        } else {
            p = lo;
            F = relu_f;
            S = s.slope[nU];
        }
    }

    std::size_t first_touched() const { return windowed ? nL : 0; }

    // Power sums of the groups about a new anchor, from their members.
    void reanchor(double lo) {
        c = lo;
        for (int i = 0; i < 4; ++i) TL[i] = TR[i] = P[i] = 0.0;
        const std::size_t l0 = A == Activation::cubic ? nU : nL;
        for (std::size_t k = l0; k < nE; ++k) add_power<1>(TL, s.a[k], (c - s.e[k]) * s.inv_eta);
        if constexpr (A == Activation::cubic) {
            for (std::size_t k = nL; k < nU; ++k) {
                add_power<1>(TR, s.a[k], (s.l[k] - c) * s.inv_eta);
            }
        }
    }

    template <int Sign>
    static void add_power(double (&T)[4], double a, double t) {
        double v = Sign * a;
        for (int i = 0; i <= deg; ++i) {
            T[i] += v;
            v *= t;
        }
    }

    // Grad: the contributions of neuron k's current phase over this epoch's
    // pieces so far: ∫ r σ (the non-constant part) and ∫ r σ′, from P.
    void phase_integrals(bool rising, std::size_t k, double& ia, double& iu) const {
        if constexpr (A == Activation::cubic) {
            if (rising) {  // σ = 4 (z + t)³, σ′ = 12 (z + t)² / η
                const double t = (c - s.e[k]) * s.inv_eta;
                ia = 4.0 * (((t * P[0] + 3.0 * P[1]) * t + 3.0 * P[2]) * t + P[3]);
                iu = 12.0 * s.inv_eta * ((t * P[0] + 2.0 * P[1]) * t + P[2]);
            } else {  // σ − 1 = −4 (s − z)³, σ′ = 12 (s − z)² / η
                const double t = (s.l[k] - c) * s.inv_eta;
                ia = -4.0 * (((t * P[0] - 3.0 * P[1]) * t + 3.0 * P[2]) * t - P[3]);
                iu = 12.0 * s.inv_eta * ((t * P[0] - 2.0 * P[1]) * t + P[2]);
            }
        } else {  // ramp: σ = z + t, σ′ = 1/η
            (void)rising;
            const double t = (c - s.e[k]) * s.inv_eta;
            ia = P[1] + t * P[0];
            iu = s.inv_eta * P[0];
        }
    }

    // Sign +1 closes neuron k's phase (adds its integrals up to now), −1 opens it.
    void book(int sign, bool rising, std::size_t k) {
        if constexpr (Grad && windowed) {
            double ia, iu;
            phase_integrals(rising, k, ia, iu);
            const std::size_t i = k - sink->base;
            sink->ga[i] += sign * 2.0 * ia;
            sink->gu[i] -= sign * 2.0 * s.a[k] * iu;
        } else {
            (void)sign, (void)rising, (void)k;
        }
    }

    void close_all() {
        if constexpr (Grad && windowed) {
            const std::size_t l0 = A == Activation::cubic ? nU : nL;
            for (std::size_t k = l0; k < nE; ++k) book(+1, true, k);
            if constexpr (A == Activation::cubic) {
                for (std::size_t k = nL; k < nU; ++k) book(+1, false, k);
            }
        }
    }

    // Moves to the piece starting at lo (> the previous one).
    void advance(double lo) {
        const std::size_t m = s.m();
        if constexpr (!windowed) {
            F += S * (lo - p);
            p = lo;
            while (nU < m && s.u[nU] <= lo) {
                F += s.a[nU] * (lo - s.u[nU]);  // 0 unless u was left of the start
                ++nU;
            }
            S = s.slope[nU];
            return;
        } else {
            if (lo - c >= s.half) {  // a new epoch: close everything, then start afresh
                close_all();
                while (nE < m && s.e[nE] <= lo) ++nE;
                while (nU < m && s.u[nU] <= lo) ++nU;
                while (nL < m && s.l[nL] <= lo) ++nL;
                reanchor(lo);
                return;
            }
            while (nE < m && s.e[nE] <= lo) {  // opens the rising phase
                book(-1, true, nE);
                add_power<1>(TL, s.a[nE], (c - s.e[nE]) * s.inv_eta);
                ++nE;
            }
            if constexpr (A == Activation::cubic) {
                while (nU < m && s.u[nU] <= lo) {  // rising → falling
                    book(+1, true, nU);
                    add_power<-1>(TL, s.a[nU], (c - s.e[nU]) * s.inv_eta);
                    book(-1, false, nU);
                    add_power<1>(TR, s.a[nU], (s.l[nU] - c) * s.inv_eta);
                    ++nU;
                }
                while (nL < m && s.l[nL] <= lo) {  // falling → saturated
                    book(+1, false, nL);
                    add_power<-1>(TR, s.a[nL], (s.l[nL] - c) * s.inv_eta);
                    ++nL;
                }
                if (nU == nL) std::fill(TR, TR + 4, 0.0);
                if (nE == nU) std::fill(TL, TL + 4, 0.0);
            } else {
                while (nU < m && s.u[nU] <= lo) ++nU;
                while (nL < m && s.l[nL] <= lo) {  // window → saturated
                    book(+1, true, nL);
                    add_power<-1>(TL, s.a[nL], (c - s.e[nL]) * s.inv_eta);
                    ++nL;
                }
                if (nE == nL) std::fill(TL, TL + 4, 0.0);
            }
        }
    }

    // True when f is constant on the current piece.
    bool constant() const {
        if constexpr (A == Activation::cubic) return nE == nL;
        else if constexpr (A == Activation::ramp) return nE == nL;
        else return S == 0.0;
    }

    // f at x in the current piece; z = (x − c)/η is also returned (windowed).
    double value(double x, double& z) const {
        if constexpr (A == Activation::cubic) {
            z = (x - c) * s.inv_eta;
            const double rise = ((TL[0] * z + 3.0 * TL[1]) * z + 3.0 * TL[2]) * z + TL[3];
            const double fall = ((-TR[0] * z + 3.0 * TR[1]) * z - 3.0 * TR[2]) * z + TR[3];
            return s.pre[nU] + 4.0 * (rise - fall);
        } else if constexpr (A == Activation::ramp) {
            z = (x - c) * s.inv_eta;
            return s.pre[nL] + (TL[0] * z + TL[1]);
        } else {
            z = 0.0;
            return F + S * (x - p);
        }
    }
};

// f* on the pieces: a piecewise-constant target (one value per piece) or a
// teacher swept like the student.
struct StepTarget {
    const PiecewiseConstant& pc;
    std::size_t next = 0;
    void start(double lo, double) {
        next = count_le(pc.breaks, lo);
    }
    void advance(double lo) {
        while (next < pc.breaks.size() && pc.breaks[next] <= lo) ++next;
    }
    bool constant() const { return true; }
    double value(double) const { return pc.values[next]; }
};

template <Activation B>
struct TeacherTarget {
    NetSweep<B, false> sweep;
    void start(double lo, double relu_f) { sweep.start(lo, relu_f); }
    void advance(double lo) { sweep.advance(lo); }
    bool constant() const { return sweep.constant(); }
    double value(double x) const {
        double z;
        return sweep.value(x, z);
    }
};

// relu: f(x) at each part's first point, by the same recurrence as the sweep
// (F += S·Δx, then the neurons reached), run once over the parts' points.
void relu_starts(const Sorted& s, const std::vector<double>& points, std::size_t parts,
                 std::vector<double>& F) {
    F.assign(parts, 0.0);
    if (is_windowed(s.act)) return;
    double f = s.pre[0], x = points[0];
    std::size_t n = 0;
    const std::size_t m = s.m();
    for (std::size_t q = 0; q < parts; ++q) {
        const double lo = points[q * kPart];
        f += s.slope[n] * (lo - x);
        x = lo;
        while (n < m && s.u[n] <= lo) {
            f += s.a[n] * (lo - s.u[n]);
            ++n;
        }
        F[q] = f;
    }
}

// What one part hands back.
struct PartOut {
    double loss = 0.0;
    GradSink sink;
    bool stopped = false;
};

// The points of the sweep (quadrature.hpp): 0, 1, the target's points and
// every e, u, l in (0, 1), sorted, without repeats. The value range is cut at
// every kBlock-th entry of the longest run; a value equal to a cut belongs to
// the block it starts, in every run, so repeats never straddle two blocks and
// the blocks, merged and cleared of repeats each on its own, are the serial
// result piece by piece.
struct PointBufs {
    std::vector<double> base, a, b;
    std::vector<std::size_t> from, count;
};

void sweep_points(const Sorted& s, const Target& target, int nthreads, std::vector<double>& points,
                  PointBufs& buf) {
    std::vector<double>& base = buf.base;
    base.clear();
    base.push_back(0.0);
    for (double p : target.breakpoints()) {
        if (p > 0.0 && p < 1.0) base.push_back(p);
    }
    base.push_back(1.0);
    struct Run {
        const double* lo;
        const double* hi;
        std::size_t size() const { return static_cast<std::size_t>(hi - lo); }
    };
    Run runs[4];
    int nr = 0;
    runs[nr++] = {base.data(), base.data() + base.size()};
    const bool windowed = is_windowed(s.act);
    for (const auto* run : {&s.e, &s.u, &s.l}) {
        if (!windowed && run != &s.u) continue;
        const double* lo = std::upper_bound(run->data(), run->data() + run->size(), 0.0);
        runs[nr++] = {lo, std::lower_bound(lo, run->data() + run->size(), 1.0)};
    }
    int longest = 0;
    std::size_t total = 0;
    for (int r = 0; r < nr; ++r) {
        total += runs[r].size();
        if (runs[r].size() > runs[longest].size()) longest = r;
    }
    const std::size_t nb = std::max<std::size_t>(1, (runs[longest].size() + kBlock - 1) / kBlock);
    // from[b·nr + r]: where block b starts in run r (b = nb: the run's end).
    buf.from.resize((nb + 1) * nr);
    for (int r = 0; r < nr; ++r) {
        buf.from[r] = 0;
        buf.from[nb * nr + r] = runs[r].size();
        for (std::size_t b = 1; b < nb; ++b) {
            const double cut = runs[longest].lo[b * kBlock];
            const double* at = std::lower_bound(runs[r].lo, runs[r].hi, cut);
            buf.from[b * nr + r] = static_cast<std::size_t>(at - runs[r].lo);
        }
    }
    buf.a.resize(total);
    buf.b.resize(total);
    buf.count.resize(nb);
    // Block b's values start at the sum of the earlier blocks' entries in `a`.
    const auto offset = [&](std::size_t b) {
        std::size_t o = 0;
        for (int r = 0; r < nr; ++r) o += buf.from[b * nr + r];
        return o;
    };
    for_blocks(nb, nthreads, [&](std::size_t b) {
        const auto part = [&](int r, const double*& lo, const double*& hi) {
            lo = runs[r].lo + buf.from[b * nr + r];
            hi = runs[r].lo + buf.from[(b + 1) * nr + r];
        };
        double* out = buf.a.data() + offset(b);
        double* tmp = buf.b.data() + offset(b);
        const double *lo, *hi;
        part(0, lo, hi);
        double* end = std::copy(lo, hi, nr % 2 == 0 ? tmp : out);  // the last merge lands in out
        double* cur = nr % 2 == 0 ? tmp : out;
        double* other = nr % 2 == 0 ? out : tmp;
        for (int r = 1; r < nr; ++r) {
            part(r, lo, hi);
            end = std::merge(cur, end, lo, hi, other);
            std::swap(cur, other);
        }
        buf.count[b] = static_cast<std::size_t>(std::unique(cur, end) - cur);
    });
    // The blocks moved left into place in `a`, which becomes the points (and
    // the old points' storage the next call's `a`): one serial memory-bound
    // pass, cheaper than another team of threads, and no third buffer (at
    // m = 10⁶ the buffers are not kept between calls, and each costs its page faults).
    std::size_t n = 0;
    for (std::size_t b = 0; b < nb; ++b) {
        const double* first = buf.a.data() + offset(b);
        if (first != buf.a.data() + n) {  // n < offset(b): moves left
            std::copy(first, first + buf.count[b], buf.a.data() + n);
        }
        n += buf.count[b];
    }
    buf.a.resize(n);
    points.swap(buf.a);
}

// Every array of a call, kept per thread between calls: the flow calls the
// gradient thousands of times, and fresh arrays of a few MB each (at m = 10⁵)
// cost their page faults at every call, ~40% of it (measured). A nested call
// on the same thread (none today) would get fresh buffers.
struct Scratch {
    Sorted student, teacher;
    PointBufs point_bufs;
    std::vector<double> points, student_f, teacher_f, mu0, mu1, ga, gu, suffix, M1, off0, off1;
    std::vector<PartOut> outs;
    bool busy = false;
};

struct Shared {
    const Sorted& s;
    const std::vector<double>& points;
    const std::vector<double>& student_f;  // relu_starts of the student
    const std::vector<double>& teacher_f;  // and of the teacher
    std::vector<double>* mu0;  // Grad: ∫ r over piece k
    std::vector<double>* mu1;  // Grad, relu: ∫ r (x − p_k) over piece k
    // Grad, split (suffix_sums): the part's own suffix sums of mu0 (and relu's
    // M1) from its pieces, as the serial recurrence but started at its end.
    std::vector<double>* suffix;
    std::vector<double>* M1;
    bool split;
    const Poll& poll;
};

// Whether the parts are shared out and sum their own suffixes: decided by the
// size alone, so that a size always gives the same bits.
bool split_parts(std::size_t parts) { return parts >= kParallelParts; }

// The serial suffix recurrences of l2_gradient over the pieces [k0, k1),
// started from zero at k1 (k0 = 0 and k1 = the number of pieces: the serial
// sums, except M0[k1] = 0, which the caller sets).
void suffix_sums(const std::vector<double>& points, const std::vector<double>& mu0,
                 const std::vector<double>* mu1, std::size_t k0, std::size_t k1,
                 std::vector<double>& M0, std::vector<double>* M1) {
    double m0 = 0.0;
    for (std::size_t k = k1; k-- > k0;) {
        m0 += mu0[k];
        M0[k] = m0;
    }
    if (M1 != nullptr) {
        // M1(k) = ∫_{p_k}^{end} r (x − p_k) = mu1_k + M1(k+1) + (p_{k+1} − p_k) M0(k+1)
        double m1 = 0.0, next0 = 0.0;
        for (std::size_t k = k1; k-- > k0;) {
            m1 = (*mu1)[k] + m1 + (points[k + 1] - points[k]) * next0;
            (*M1)[k] = m1;
            next0 = M0[k];
        }
    }
}

template <Activation A, bool Grad, class Tgt>
void run_part(const Shared& sh, Tgt tgt, std::size_t q, PartOut& out) {
    const std::vector<double>& pts = sh.points;
    const std::size_t k0 = q * kPart, k1 = std::min(k0 + kPart, pts.size() - 1);
    NetSweep<A, Grad> net(sh.s);
    net.start(pts[k0], sh.student_f[q]);
    tgt.start(pts[k0], sh.teacher_f.empty() ? 0.0 : sh.teacher_f[q]);
    if constexpr (Grad && is_windowed(A)) {
        out.sink.base = net.first_touched();
        const std::size_t last = count_le(sh.s.e, pts[k1 - 1]);
        out.sink.ga.assign(last - out.sink.base, 0.0);
        out.sink.gu.assign(last - out.sink.base, 0.0);
        net.sink = &out.sink;
    }
    double loss = 0.0;
    for (std::size_t k = k0; k < k1; ++k) {
        const double lo = pts[k], hi = pts[k + 1];
        if (k != k0) {
            net.advance(lo);
            tgt.advance(lo);
        }
        if ((k - k0) % kPollEvery == kPollEvery - 1 && sh.poll()) {
            out.stopped = true;
            return;
        }
        const double half = 0.5 * (hi - lo), mid = 0.5 * (lo + hi);
        if (!Grad && net.constant() && tgt.constant()) {  // r is constant: no nodes
            double z;
            const double d = net.value(lo, z) - tgt.value(lo);
            loss += (hi - lo) * d * d;
            continue;
        }
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, sl = 0.0;
        for (int i = 0; i < 4; ++i) {
            const double x = mid + half * GL::node[i];
            double z;
            const double r = net.value(x, z) - tgt.value(x);
            const double wr = GL::weight[i] * r;
            sl += wr * r;
            if constexpr (Grad) {
                s0 += wr;
                if constexpr (is_windowed(A)) {
                    s1 += wr * z;
                    if constexpr (A == Activation::cubic) {
                        s2 += wr * z * z;
                        s3 += wr * z * z * z;
                    }
                } else {
                    s1 += wr * (x - lo);
                }
            }
        }
        loss += half * sl;
        if constexpr (Grad) {
            (*sh.mu0)[k] = half * s0;
            if constexpr (is_windowed(A)) {
                net.P[0] += half * s0;
                net.P[1] += half * s1;
                net.P[2] += half * s2;
                net.P[3] += half * s3;
            } else {
                (*sh.mu1)[k] = half * s1;
            }
        }
    }
    net.close_all();
    out.loss = loss;
    if constexpr (Grad) {
        if (sh.split) {
            suffix_sums(pts, *sh.mu0, sh.mu1, k0, k1, *sh.suffix,
                        is_windowed(A) ? nullptr : sh.M1);
        }
    }
}

// Runs every part (in parallel when there are enough of them), then returns
// the loss, summed in part order; the parts' gradient sinks stay in `outs`.
template <Activation A, bool Grad>
double run_parts(Scratch& sc, const Target& target, std::vector<double>* mu0,
                 std::vector<double>* mu1, std::vector<double>* suffix, std::vector<double>* M1,
                 int threads, const Poll& poll) {
    const Sorted& s = sc.student;
    const std::vector<double>& points = sc.points;
    std::vector<PartOut>& outs = sc.outs;
    const std::size_t pieces = points.size() - 1;
    const std::size_t parts = (pieces + kPart - 1) / kPart;
    outs.resize(parts);
    for (PartOut& o : outs) {
        o.loss = 0.0;
        o.stopped = false;
        o.sink.base = 0;
        o.sink.ga.clear();
        o.sink.gu.clear();
    }
    relu_starts(s, points, parts, sc.student_f);
    sc.teacher_f.clear();
    const Network* teacher = target.teacher();
    const Sorted* ts = nullptr;
    if (teacher != nullptr) {
        ts = &sc.teacher;
        relu_starts(*ts, points, parts, sc.teacher_f);
    }
    const bool split = split_parts(parts);
    const Shared sh{s, points, sc.student_f, sc.teacher_f, mu0, mu1, suffix, M1, split, poll};
    const auto one = [&](std::size_t q) {
        if (teacher == nullptr) {
            run_part<A, Grad>(sh, StepTarget{*target.piecewise_constant()}, q, outs[q]);
        } else {
            dispatch_activation(teacher->act, [&](auto B) {
                run_part<A, Grad>(sh, TeacherTarget<B.value>{NetSweep<B.value, false>(*ts)}, q,
                                  outs[q]);
            });
        }
    };
    const int nthreads = split ? inner_threads(threads) : 1;
    if (nthreads <= 1) {
        for (std::size_t q = 0; q < parts; ++q) {
            one(q);
            if (outs[q].stopped) throw Interrupted{};
        }
    } else {
        // A part that starts after Ctrl-C is skipped; the run then stops below.
        for_blocks(parts, nthreads, [&](std::size_t q) {
            if (!poll.stopped()) one(q);
        });
        for (const PartOut& o : outs) {
            if (o.stopped) throw Interrupted{};
        }
        if (poll.stopped()) throw Interrupted{};
    }
    double loss = 0.0;
    for (const PartOut& o : outs) loss += o.loss;
    return loss;
}

// The calling thread's Scratch, or a fresh one when it is in use.
class ScratchLease {
    static constexpr std::size_t kKeepPoints = std::size_t{1} << 20;

public:
    ScratchLease() : sc_(shared().busy ? fresh_.emplace() : shared()) { sc_.busy = true; }
    // Large buffers are not kept (at m = 10⁶ they hold ~150 MB; a call there is
    // long enough that refilling them does not matter).
    ~ScratchLease() {
        if (sc_.points.capacity() > kKeepPoints) sc_ = Scratch{};
        sc_.busy = false;
    }
    ScratchLease(const ScratchLease&) = delete;
    ScratchLease& operator=(const ScratchLease&) = delete;
    Scratch& operator*() { return sc_; }

private:
    static Scratch& shared() {
        thread_local Scratch sc;
        return sc;
    }
    std::optional<Scratch> fresh_;
    Scratch& sc_;
};

// The threads of the set-up, whose results do not depend on them: shared out
// when the sweep will be (its pieces are ~3m windowed, ~m relu, plus the target's).
int prepare_threads(const Network& net, const Target& target, int threads) {
    const std::size_t m = static_cast<std::size_t>(net.m());
    const std::size_t pieces = (is_windowed(net.act) ? 3 * m : m) + target.breakpoints().size();
    return split_parts(pieces / kPart) ? inner_threads(threads) : 1;
}

void prepare(Scratch& sc, const Network& net, const Target& target, int threads) {
    const int nthreads = prepare_threads(net, target, threads);
    sc.student.assign(net, nthreads);
    if (const Network* teacher = target.teacher()) sc.teacher.assign(*teacher, nthreads);
    sweep_points(sc.student, target, nthreads, sc.points, sc.point_bufs);
}

}  // namespace

double l2_error(const Network& net, const Target& target, int threads, const Poll& poll) {
    ScratchLease lease;
    Scratch& sc = *lease;
    prepare(sc, net, target, threads);
    if (poll()) throw Interrupted{};
    return dispatch_activation(net.act, [&](auto A) {
        return run_parts<A.value, false>(sc, target, nullptr, nullptr, nullptr, nullptr, threads,
                                         poll);
    });
}

L2Gradient l2_gradient(const Network& net, const Target& target, int threads, const Poll& poll) {
    const std::size_t m = static_cast<std::size_t>(net.m());
    ScratchLease lease;
    Scratch& sc = *lease;
    prepare(sc, net, target, threads);
    if (poll()) throw Interrupted{};
    const Sorted& s = sc.student;
    const std::vector<double>& points = sc.points;
    const std::size_t pieces = points.size() - 1;
    const std::size_t parts = (pieces + kPart - 1) / kPart;
    const bool split = split_parts(parts);
    const int nthreads = split ? inner_threads(threads) : 1;
    std::vector<double>& mu0 = sc.mu0;
    std::vector<double>& mu1 = sc.mu1;
    mu0.resize(pieces);  // every entry is written by its part
    const bool windowed = is_windowed(net.act);
    if (!windowed) mu1.resize(pieces);
    // windowed: M0 (k) = Σ of mu0 from k on; relu: M0 and M1 (below).
    std::vector<double>& M0 = sc.suffix;
    std::vector<double>& M1 = sc.M1;
    M0.resize(pieces + 1);
    M0[pieces] = 0.0;
    if (!windowed) {
        M1.resize(pieces + 1);
        M1[pieces] = 0.0;
    }
    L2Gradient out{0.0, Eigen::VectorXd(net.m() + 1), Eigen::VectorXd(net.m())};
    out.loss = dispatch_activation(net.act, [&](auto A) {
        return run_parts<A.value, true>(sc, target, &mu0, &mu1, &M0, &M1, threads, poll);
    });
    // Split: the parts hold their own suffix sums; chain them in part order,
    // right to left: off0[q] (off1[q]) is M0 (M1) at the end of part q.
    std::vector<double>& off0 = sc.off0;
    std::vector<double>& off1 = sc.off1;
    if (split) {
        off0.assign(parts, 0.0);
        off1.assign(parts, 0.0);
        for (std::size_t q = parts - 1; q-- > 0;) {
            const std::size_t k1 = (q + 1) * kPart, k2 = std::min(k1 + kPart, pieces);
            off0[q] = M0[k1] + off0[q + 1];
            if (!windowed) {
                off1[q] = M1[k1] + off1[q + 1] + (points[k2] - points[k1]) * off0[q + 1];
            }
        }
    } else {
        suffix_sums(points, mu0, windowed ? nullptr : &mu1, 0, pieces, M0,
                    windowed ? nullptr : &M1);
    }
    // M0 and M1 at the pieces' left ends (k = pieces: zero).
    const auto last_part = [&](std::size_t k) { return !split || k / kPart + 1 >= parts; };
    const auto m0 = [&](std::size_t k) {
        return last_part(k) ? M0[k] : M0[k] + off0[k / kPart];
    };
    const auto m1 = [&](std::size_t k) {
        if (last_part(k)) return M1[k];
        const std::size_t q = k / kPart, k1 = (q + 1) * kPart;
        return M1[k] + off1[q] + (points[k1] - points[k]) * off0[q];
    };
    // Window integrals, per neuron in the order of u, added part by part.
    std::vector<double>& ga = sc.ga;
    std::vector<double>& gu = sc.gu;
    ga.resize(m);
    gu.resize(m);
    const std::vector<PartOut>& outs = sc.outs;
    const std::vector<double>& from = !windowed                      ? s.u
                                      : net.act == Activation::cubic ? s.u
                                                                     : s.l;
    out.grad_a[0] = 2.0 * m0(0);
    // By blocks of neurons (each walks the points from its first neuron's).
    for_blocks((m + kBlock - 1) / kBlock, nthreads, [&](std::size_t b) {
        const std::size_t j0 = b * kBlock, j1 = std::min(m, j0 + kBlock);
        std::size_t k = static_cast<std::size_t>(
            std::lower_bound(points.begin(), points.begin() + static_cast<std::ptrdiff_t>(pieces),
                             from[j0]) -
            points.begin());
        if (windowed) {
            std::fill(ga.begin() + static_cast<std::ptrdiff_t>(j0),
                      ga.begin() + static_cast<std::ptrdiff_t>(j1), 0.0);
            std::fill(gu.begin() + static_cast<std::ptrdiff_t>(j0),
                      gu.begin() + static_cast<std::ptrdiff_t>(j1), 0.0);
            for (const PartOut& o : outs) {
                const std::size_t lo = std::max(j0, o.sink.base);
                const std::size_t hi = std::min(j1, o.sink.base + o.sink.ga.size());
                for (std::size_t j = lo; j < hi; ++j) {
                    ga[j] += o.sink.ga[j - o.sink.base];
                    gu[j] += o.sink.gu[j - o.sink.base];
                }
            }
            // φ_j − (its window polynomial) is 1 from u_j (cubic: the falling
            // half's constant) or l_j (ramp) on: 2 ∫ r over that tail, a suffix sum.
            for (std::size_t j = j0; j < j1; ++j) {  // `from` is sorted: walk the points once
                while (k < pieces && points[k] < from[j]) ++k;
                out.grad_a[s.order[j] + 1] = ga[j] + 2.0 * m0(k);
                out.grad_u[s.order[j]] = gu[j];
            }
        } else {
            // relu: M0(k) = ∫_{p_k}^1 r, M1(k) = ∫_{p_k}^1 r (x − p_k);
            // ∂L/∂a_j = 2 ∫_{u_j}^1 r (x − u_j) = 2 (M1(k) + (p_k − u_j) M0(k)) at
            // the first point p_k ≥ u_j (u_j itself inside [0, 1)), and
            // ∂L/∂u_j = −2 a_j M0(k).
            for (std::size_t j = j0; j < j1; ++j) {
                while (k < pieces && points[k] < s.u[j]) ++k;
                const double mk0 = m0(k);
                const double ia = k < pieces ? m1(k) + (points[k] - s.u[j]) * mk0 : 0.0;
                out.grad_a[s.order[j] + 1] = 2.0 * ia;
                out.grad_u[s.order[j]] = -2.0 * s.a[j] * mk0;
            }
        }
    });
    return out;
}

}  // namespace ttnn
