// The core's two ways for a long run to stop early, shared by every dynamics.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

namespace ttnn {

// `poll` is called by long runs every few milliseconds of work; it returns
// true to stop the run, which then throws Interrupted.
using Poll = std::function<bool()>;

struct Interrupted {};

// Parameters became non-finite: the run stops, naming the step (1-based: the
// step whose update produced them).
class DivergenceError : public std::runtime_error {
public:
    DivergenceError(std::int64_t step, const std::string& what)
        : std::runtime_error(what), step(step) {}
    std::int64_t step;
};

}  // namespace ttnn
