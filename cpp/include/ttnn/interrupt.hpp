// The core's two ways for a long run to stop early, shared by every dynamics,
// and the monitor through which long runs report progress and observe Ctrl-C.
// See docs/guide/errors.md.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>

namespace ttnn {

// Thrown by a long run that was asked to stop. Never thrown from inside a
// `target_clones`/`flatten` loop (sgd.cpp): such loops return a status and
// their non-cloned caller throws, so that unwinding runs every destructor.
struct Interrupted {};

// Shared by all threads of one long call: a stop flag every thread reads, the
// work done so far (in the call's units: steps, epochs), and the caller's
// `check`, which only the thread that built the monitor (the one allowed to
// talk to Python) calls, at most once per `interval`.
class Monitor {
public:
    // check(done, total) returns true to stop the call; it may look for
    // Ctrl-C and report progress. `total` is 0 when unknown.
    using Check = std::function<bool(std::int64_t done, std::int64_t total)>;

    explicit Monitor(Check check, std::int64_t total = 0,
                     std::chrono::milliseconds interval = std::chrono::milliseconds(50))
        : check_(std::move(check)), total_(total), owner_(std::this_thread::get_id()),
          last_(std::chrono::steady_clock::now()), interval_(interval) {}

    // Any thread: counts `work` more units done and returns true when the call
    // must stop. Cheap (two atomics, plus a clock read on the owner thread), so
    // runs may call it every few milliseconds of work or more often.
    bool poll(std::int64_t work = 0) {
        if (work != 0) done_.fetch_add(work, std::memory_order_relaxed);
        // Once stopped, the check is never called again: it may have left a
        // Python exception set, and calling into Python then is an error.
        if (stop_.load(std::memory_order_relaxed)) return true;
        if (std::this_thread::get_id() == owner_) {
            const auto now = std::chrono::steady_clock::now();
            if (now - last_ >= interval_) {
                last_ = now;
                if (check_ && check_(done(), total_)) stop_.store(true);
            }
        }
        return stop_.load(std::memory_order_relaxed);
    }

    bool stopped() const { return stop_.load(std::memory_order_relaxed); }
    std::int64_t done() const { return done_.load(std::memory_order_relaxed); }
    std::int64_t total() const { return total_; }

private:
    Check check_;
    std::int64_t total_;
    std::atomic<std::int64_t> done_{0};
    std::atomic<bool> stop_{false};
    std::thread::id owner_;
    std::chrono::steady_clock::time_point last_;  // owner thread only
    std::chrono::steady_clock::duration interval_;
};

// What a long run receives: a handle on its call's Monitor (or nothing, for
// runs that can never be stopped). `poll(work)` reports `work` units done and
// returns true to stop; `poll()` only asks. Copies share the monitor, so one
// Poll serves every thread of an ensemble.
class Poll {
public:
    Poll() = default;
    Poll(Monitor& monitor) : monitor_(&monitor) {}  // NOLINT: implicit on purpose

    explicit operator bool() const { return monitor_ != nullptr; }
    bool operator()(std::int64_t work = 0) const {
        return monitor_ != nullptr && monitor_->poll(work);
    }
    bool stopped() const { return monitor_ != nullptr && monitor_->stopped(); }

private:
    Monitor* monitor_ = nullptr;
};

// a + b for progress totals, saturating instead of overflowing.
inline std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    return a > kMax - b ? kMax : a + b;
}

// Parameters became non-finite: the run stops, naming the step (1-based: the
// step whose update produced them).
class DivergenceError : public std::runtime_error {
public:
    DivergenceError(std::int64_t step, const std::string& what)
        : std::runtime_error(what), step(step) {}
    std::int64_t step;
};

}  // namespace ttnn
