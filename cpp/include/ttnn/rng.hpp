// Random numbers with a fixed, documented algorithm, so that a seed gives the
// same stream on every platform and for any number of threads (std::
// distributions are implementation-defined, so none is used).
//
// Generator: xoshiro256** (Blackman & Vigna), state seeded by splitmix64.
// Uniform [0,1): the top 53 bits times 2^-53. Normal: Marsaglia's polar method.
#pragma once

#include <cmath>
#include <cstdint>

namespace ttnn {

inline std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

class Rng {
public:
    // `stream` separates independent runs that share a user seed (ensembles):
    // run i of an ensemble uses Rng(seed, i), whatever thread runs it.
    explicit Rng(std::uint64_t seed, std::uint64_t stream = 0) {
        std::uint64_t sm = seed ^ (0xD1B54A32D192ED03ULL * (stream + 1));
        for (auto& word : s_) word = splitmix64(sm);
    }

    std::uint64_t next() {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    // Uniform on [0, 1). The 53-bit integer converts exactly either way; as a
    // signed one it takes one instruction instead of the unsigned sequence.
    double uniform() {
        return static_cast<double>(static_cast<std::int64_t>(next() >> 11)) * 0x1.0p-53;
    }

    // Standard normal (Marsaglia polar; the spare value is kept).
    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double v1, v2, s;
        do {
            v1 = 2.0 * uniform() - 1.0;
            v2 = 2.0 * uniform() - 1.0;
            s = v1 * v1 + v2 * v2;
        } while (s >= 1.0 || s == 0.0);
        const double k = std::sqrt(-2.0 * std::log(s) / s);
        spare_ = v2 * k;
        has_spare_ = true;
        return v1 * k;
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4];
    double spare_ = 0.0;
    bool has_spare_ = false;
};

}  // namespace ttnn
