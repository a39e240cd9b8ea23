#include "ttnn/loss.hpp"

#include <algorithm>
#include <cstddef>
#include <exception>
#include <iterator>
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
// depend on the number of threads (inner_threads.hpp).

namespace ttnn {

namespace {

using GL = GaussLegendre4;

// Pieces per part. Small enough that m = 10⁴ (~3·10⁴ pieces) gives several
// parts to share, large enough that a part's start (binary searches and the
// anchor's recomputation over ~a window of neurons) is negligible.
constexpr std::size_t kPart = 4096;
// Parts from which threads are used: below it, starting and joining a team of
// threads costs more than the parts' work (bench/RESULTS.md, "The exact loss at
// large m", has the 1 → 2 thread ratios on each side).
constexpr std::size_t kParallelParts = 16;
// Pieces between two polls for Ctrl-C (~0.1–0.3 ms of work).
constexpr std::size_t kPollEvery = 2048;

// A network in the order of u: enter e = u − η/2, middle u, leave l = u + η/2
// (the same expressions as quadrature_impl.hpp, so the same points), and the
// running sums of a that the saturated part of f needs.
struct Sorted {
    Activation act = Activation::cubic;
    double eta = 1.0, inv_eta = 1.0, half = 0.0;
    std::vector<int> order;
    std::vector<double> u, a, e, l;
    std::vector<double> pre;  // pre[n] = a_0 + Σ_{k<n} a_(k), summed in this order
    std::vector<double> slope;  // relu: slope[n] = Σ_{k<n} a_(k)

    // Refills the arrays (their capacity is kept: see Scratch).
    void assign(const Network& net) {
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
            std::stable_sort(order.begin(), order.end(),
                             [&](int i, int j) { return net.u[i] < net.u[j]; });
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
// every e, u, l in (0, 1), sorted, without repeats.
void sweep_points(const Sorted& s, const Target& target, std::vector<double>& points,
                  std::vector<double>& merged) {
    points.clear();
    points.reserve(3 * s.m() + target.breakpoints().size() + 2);
    points.push_back(0.0);
    for (double p : target.breakpoints()) {
        if (p > 0.0 && p < 1.0) points.push_back(p);
    }
    points.push_back(1.0);
    const bool windowed = is_windowed(s.act);
    for (const auto* run : {&s.e, &s.u, &s.l}) {
        if (!windowed && run != &s.u) continue;
        const auto lo = std::upper_bound(run->begin(), run->end(), 0.0);
        const auto hi = std::lower_bound(lo, run->end(), 1.0);
        merged.clear();
        merged.reserve(points.size() + static_cast<std::size_t>(hi - lo));
        std::merge(points.begin(), points.end(), lo, hi, std::back_inserter(merged));
        points.swap(merged);
    }
    points.erase(std::unique(points.begin(), points.end()), points.end());
}

// Every array of a call, kept per thread between calls: the flow calls the
// gradient thousands of times, and fresh arrays of a few MB each (at m = 10⁵)
// cost their page faults at every call, a large share of it. A nested call
// on the same thread (none today) would get fresh buffers.
struct Scratch {
    Sorted student, teacher;
    std::vector<double> points, merged, student_f, teacher_f, mu0, mu1, ga, gu, suffix, M1;
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
    const Poll& poll;
};

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
}

// Runs every part (in parallel when there are enough of them), then returns
// the loss, summed in part order; the parts' gradient sinks stay in `outs`.
template <Activation A, bool Grad>
double run_parts(Scratch& sc, const Target& target, std::vector<double>* mu0,
                 std::vector<double>* mu1, int threads, const Poll& poll) {
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
    const Shared sh{s, points, sc.student_f, sc.teacher_f, mu0, mu1, poll};
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
    const int nthreads = parts >= kParallelParts ? inner_threads(threads) : 1;
    if (nthreads <= 1) {
        for (std::size_t q = 0; q < parts; ++q) {
            one(q);
            if (outs[q].stopped) throw Interrupted{};
        }
    } else {
        const auto n = static_cast<std::ptrdiff_t>(parts);
        std::vector<std::exception_ptr> errors(parts);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
        for (std::ptrdiff_t q = 0; q < n; ++q) {
            if (poll.stopped()) continue;
            try {
                one(static_cast<std::size_t>(q));
            } catch (...) {  // (bad_alloc) never let an exception leave the region
                errors[static_cast<std::size_t>(q)] = std::current_exception();
            }
        }
        for (const auto& err : errors) {
            if (err) std::rethrow_exception(err);
        }
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

void prepare(Scratch& sc, const Network& net, const Target& target) {
    sc.student.assign(net);
    if (const Network* teacher = target.teacher()) sc.teacher.assign(*teacher);
    sweep_points(sc.student, target, sc.points, sc.merged);
}

}  // namespace

double l2_error(const Network& net, const Target& target, int threads, const Poll& poll) {
    ScratchLease lease;
    Scratch& sc = *lease;
    prepare(sc, net, target);
    if (poll()) throw Interrupted{};
    return dispatch_activation(net.act, [&](auto A) {
        return run_parts<A.value, false>(sc, target, nullptr, nullptr, threads, poll);
    });
}

L2Gradient l2_gradient(const Network& net, const Target& target, int threads, const Poll& poll) {
    const std::size_t m = static_cast<std::size_t>(net.m());
    ScratchLease lease;
    Scratch& sc = *lease;
    prepare(sc, net, target);
    if (poll()) throw Interrupted{};
    const Sorted& s = sc.student;
    const std::vector<double>& points = sc.points;
    const std::size_t pieces = points.size() - 1;
    std::vector<double>& mu0 = sc.mu0;
    std::vector<double>& mu1 = sc.mu1;
    mu0.resize(pieces);  // every entry is written by its part
    const bool windowed = is_windowed(net.act);
    if (!windowed) mu1.resize(pieces);
    L2Gradient out{0.0, Eigen::VectorXd(net.m() + 1), Eigen::VectorXd(net.m())};
    out.loss = dispatch_activation(net.act, [&](auto A) {
        return run_parts<A.value, true>(sc, target, &mu0, &mu1, threads, poll);
    });
    // Window integrals, per neuron in the order of u, added part by part.
    std::vector<double>& ga = sc.ga;
    std::vector<double>& gu = sc.gu;
    ga.assign(m, 0.0);
    gu.assign(m, 0.0);
    for (const PartOut& o : sc.outs) {
        for (std::size_t i = 0; i < o.sink.ga.size(); ++i) {
            ga[o.sink.base + i] += o.sink.ga[i];
            gu[o.sink.base + i] += o.sink.gu[i];
        }
    }
    std::vector<double>& suffix = sc.suffix;  // windowed: Σ of mu0 from k on; relu: M0
    suffix.resize(pieces + 1);
    suffix[pieces] = 0.0;
    for (std::size_t k = pieces; k-- > 0;) suffix[k] = suffix[k + 1] + mu0[k];
    if (windowed) {
        // φ_j − (its window polynomial) is 1 from u_j (cubic: the falling half's
        // constant) or l_j (ramp) on: 2 ∫ r over that tail, a suffix sum.
        out.grad_a[0] = 2.0 * suffix[0];
        const std::vector<double>& from = net.act == Activation::cubic ? s.u : s.l;
        std::size_t k = 0;
        for (std::size_t j = 0; j < m; ++j) {  // `from` is sorted: walk the points once
            while (k < pieces && points[k] < from[j]) ++k;
            out.grad_a[s.order[j] + 1] = ga[j] + 2.0 * suffix[k];
            out.grad_u[s.order[j]] = gu[j];
        }
    } else {
        // relu: M0(k) = ∫_{p_k}^1 r, M1(k) = ∫_{p_k}^1 r (x − p_k), right to left;
        // ∂L/∂a_j = 2 ∫_{u_j}^1 r (x − u_j) = 2 (M1(k) + (p_k − u_j) M0(k)) at
        // the first point p_k ≥ u_j (u_j itself inside [0, 1)), and
        // ∂L/∂u_j = −2 a_j M0(k).
        const std::vector<double>& M0 = suffix;
        std::vector<double>& M1 = sc.M1;
        M1.resize(pieces + 1);
        M1[pieces] = 0.0;
        for (std::size_t k = pieces; k-- > 0;) {
            M1[k] = mu1[k] + M1[k + 1] + (points[k + 1] - points[k]) * M0[k + 1];
        }
        out.grad_a[0] = 2.0 * M0[0];
        std::size_t k = 0;
        for (std::size_t j = 0; j < m; ++j) {
            while (k < pieces && points[k] < s.u[j]) ++k;
            const double ia = k < pieces ? M1[k] + (points[k] - s.u[j]) * M0[k] : 0.0;
            out.grad_a[s.order[j] + 1] = 2.0 * ia;
            out.grad_u[s.order[j]] = -2.0 * s.a[j] * M0[k];
        }
    }
    return out;
}

}  // namespace ttnn
