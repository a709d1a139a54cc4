// Native CUDA harness for the cudalens suite (server/wgsl/tests/kernels/*.cu).
//
// The kernels are the suite files themselves, #included verbatim (each in its
// own namespace, since several define a host `run` with the same signature).
// Everything else comes from the files the Rust driver
// (server/gpu/examples/suite_bench.rs) wrote, so both sides run the same
// launch on the same bytes:
//
//   DIR/kernels.txt, DIR/in/<stem>.txt (grid, block, args, buffers),
//   DIR/in/<stem>.<buf>.bin (initial buffer contents).
//
// For each kernel: upload the inputs, launch ONCE, read back every read_write
// buffer into DIR/cuda/<stem>.<buf>.bin and compare it with
// DIR/wgsl/<stem>.<buf>.bin (bitwise mismatches, max ULP distance, max error
// relative to a per-kernel magnitude; compare.py applies the tolerances), then
// `warmup` launches and `iterations` launches each bracketed by its own pair
// of CUDA events (as each WGSL dispatch is bracketed by its own timestamps).
// One JSON object per kernel goes to DIR/cuda.jsonl.
//
// Build: nvcc -O3 -arch=sm_90 -std=c++17 -I<repo root> -o harness harness.cu
// Run:   ./harness DIR

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace k_vector_add {
#include "server/wgsl/tests/kernels/vector_add.cu"
}
namespace k_saxpy {
#include "server/wgsl/tests/kernels/saxpy.cu"
}
namespace k_matmul_naive {
#include "server/wgsl/tests/kernels/matmul_naive.cu"
}
namespace k_matmul_tiled {
#include "server/wgsl/tests/kernels/matmul_tiled.cu"
}
namespace k_transpose_naive {
#include "server/wgsl/tests/kernels/transpose_naive.cu"
}
namespace k_transpose_shared {
#include "server/wgsl/tests/kernels/transpose_shared.cu"
}
namespace k_reduce_interleaved_divergent {
#include "server/wgsl/tests/kernels/reduce_interleaved_divergent.cu"
}
namespace k_reduce_interleaved_bank {
#include "server/wgsl/tests/kernels/reduce_interleaved_bank.cu"
}
namespace k_reduce_first_add {
#include "server/wgsl/tests/kernels/reduce_first_add.cu"
}
namespace k_reduce_unrolled_volatile {
#include "server/wgsl/tests/kernels/reduce_unrolled_volatile.cu"
}
namespace k_reduce_sequential {
#include "server/wgsl/tests/kernels/reduce_sequential.cu"
}
namespace k_reduce_warp_shfl {
#include "server/wgsl/tests/kernels/reduce_warp_shfl.cu"
}
namespace k_scan_hillis_steele {
#include "server/wgsl/tests/kernels/scan_hillis_steele.cu"
}
namespace k_stencil2d {
#include "server/wgsl/tests/kernels/stencil2d.cu"
}
namespace k_histogram {
#include "server/wgsl/tests/kernels/histogram.cu"
}
namespace k_templates_device {
#include "server/wgsl/tests/kernels/templates_device.cu"
}
namespace k_control_flow {
#include "server/wgsl/tests/kernels/control_flow.cu"
}
// The suite files' macros end here.
#undef BLOCK
#undef BINS
#undef TILE
#undef TILE_DIM
#undef BLOCK_ROWS

#define CHECK(call)                                                                  \
    do {                                                                             \
        cudaError_t err_ = (call);                                                   \
        if (err_ != cudaSuccess) {                                                   \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,            \
                    cudaGetErrorString(err_));                                       \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

struct BufDesc {
    std::string name, ctype;
    size_t elements = 0;
    bool rw = false;
};

struct Manifest {
    std::string kernel, size;
    dim3 grid, block;
    unsigned dynamic_shared_bytes = 0;
    int warmup = 10, iterations = 100;
    std::map<int, double> args;
    std::vector<BufDesc> bufs;
};

static Manifest read_manifest(const std::string& path) {
    std::ifstream f(path);
    if (!f) {
        fprintf(stderr, "cannot read %s\n", path.c_str());
        exit(1);
    }
    Manifest m;
    std::string line;
    while (std::getline(f, line)) {
        std::istringstream s(line);
        std::string key;
        s >> key;
        if (key == "kernel") s >> m.kernel;
        else if (key == "size") s >> m.size;
        else if (key == "grid") s >> m.grid.x >> m.grid.y >> m.grid.z;
        else if (key == "block") s >> m.block.x >> m.block.y >> m.block.z;
        else if (key == "dynamic_shared_bytes") s >> m.dynamic_shared_bytes;
        else if (key == "warmup") s >> m.warmup;
        else if (key == "iterations") s >> m.iterations;
        else if (key == "arg") {
            int i;
            double v;
            s >> i >> v;
            m.args[i] = v;
        } else if (key == "buf") {
            BufDesc b;
            std::string rw;
            s >> b.name >> b.ctype >> b.elements >> rw;
            b.rw = rw == "rw";
            m.bufs.push_back(b);
        }
    }
    return m;
}

static std::vector<char> read_file(const std::string& path, bool required) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        if (required) {
            fprintf(stderr, "cannot read %s\n", path.c_str());
            exit(1);
        }
        return {};
    }
    f.seekg(0, std::ios::end);
    std::vector<char> data((size_t)f.tellg());
    f.seekg(0, std::ios::beg);
    f.read(data.data(), (std::streamsize)data.size());
    return data;
}

static void write_file(const std::string& path, const void* data, size_t len) {
    std::ofstream f(path, std::ios::binary);
    f.write(static_cast<const char*>(data), (std::streamsize)len);
}

// |A| * |B|: the magnitude a matmul element's rounding error scales with.
__global__ void abs_matmul(const float* A, const float* B, float* C, int N) {
    int row = blockIdx.y * blockDim.y + threadIdx.y;
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (row < N && col < N) {
        float s = 0.0f;
        for (int k = 0; k < N; ++k) s += fabsf(A[row * N + k]) * fabsf(B[k * N + col]);
        C[row * N + col] = s;
    }
}

static uint32_t ulp_distance(float a, float b) {
    if (std::isnan(a) || std::isnan(b)) return (std::isnan(a) && std::isnan(b)) ? 0 : UINT32_MAX;
    auto key = [](float x) {
        int32_t i;
        memcpy(&i, &x, 4);
        return i < 0 ? (int64_t)INT32_MIN - i : (int64_t)i;
    };
    int64_t d = key(a) - key(b);
    d = d < 0 ? -d : d;
    return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [stem...]\n", argv[0]);
        return 2;
    }
    std::string dir = argv[1];
    std::vector<std::string> stems;
    if (argc > 2) {
        for (int i = 2; i < argc; i++) stems.push_back(argv[i]);
    } else {
        std::ifstream f(dir + "/kernels.txt");
        std::string s;
        while (f >> s) stems.push_back(s);
    }
    cudaDeviceProp prop;
    CHECK(cudaGetDeviceProperties(&prop, 0));
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    fprintf(stderr, "device: %s (sm_%d%d), driver %d, runtime %d\n", prop.name, prop.major, prop.minor,
            driver, runtime);
    if (system(("mkdir -p " + dir + "/cuda").c_str()) != 0) return 1;
    FILE* jsonl = fopen((dir + "/cuda.jsonl").c_str(), "w");
    int failures = 0;

    for (const std::string& stem : stems) {
        Manifest m = read_manifest(dir + "/in/" + stem + ".txt");
        std::map<std::string, void*> dev;
        std::map<std::string, std::vector<char>> host_in;
        for (const BufDesc& b : m.bufs) {
            std::vector<char> bytes = read_file(dir + "/in/" + stem + "." + b.name + ".bin", true);
            if (bytes.size() != b.elements * 4) {
                fprintf(stderr, "%s.%s: %zu bytes, expected %zu\n", stem.c_str(), b.name.c_str(),
                        bytes.size(), b.elements * 4);
                return 1;
            }
            void* p = nullptr;
            CHECK(cudaMalloc(&p, bytes.size()));
            CHECK(cudaMemcpy(p, bytes.data(), bytes.size(), cudaMemcpyHostToDevice));
            dev[b.name] = p;
            host_in[b.name] = std::move(bytes);
        }
        auto F = [&](const char* n) { return static_cast<float*>(dev.at(n)); };
        auto I = [&](const char* n) { return static_cast<int*>(dev.at(n)); };
        auto U = [&](const char* n) { return static_cast<unsigned*>(dev.at(n)); };
        auto A = [&](int i) { return m.args.at(i); };
        dim3 g = m.grid, b = m.block;
        unsigned sh = m.dynamic_shared_bytes;

        // The same <<<grid, block, shared>>> the WGSL dispatch emulates.
        std::function<void()> launch;
        if (stem == "vector_add")
            launch = [&] { k_vector_add::vector_add<<<g, b, sh>>>(F("a"), F("b"), F("c"), (unsigned)A(3)); };
        else if (stem == "saxpy")
            launch = [&] { k_saxpy::saxpy<<<g, b, sh>>>((int)A(0), F("x"), F("y"), (float)A(3)); };
        else if (stem == "matmul_naive")
            launch = [&] { k_matmul_naive::matmul_naive<<<g, b, sh>>>(F("A"), F("B"), F("C"), (int)A(3)); };
        else if (stem == "matmul_tiled")
            launch = [&] { k_matmul_tiled::matmul_tiled<<<g, b, sh>>>(F("A"), F("B"), F("C"), (int)A(3)); };
        else if (stem == "transpose_naive")
            launch = [&] { k_transpose_naive::transpose_naive<<<g, b, sh>>>(F("in"), F("out"), (int)A(2), (int)A(3)); };
        else if (stem == "transpose_shared")
            launch = [&] { k_transpose_shared::transpose_shared<<<g, b, sh>>>(F("in"), F("out"), (int)A(2), (int)A(3)); };
        else if (stem == "reduce_interleaved_divergent")
            launch = [&] { k_reduce_interleaved_divergent::reduce_interleaved_divergent<<<g, b, sh>>>(I("g_in"), I("g_out"), (unsigned)A(2)); };
        else if (stem == "reduce_interleaved_bank")
            launch = [&] { k_reduce_interleaved_bank::reduce_interleaved_bank<<<g, b, sh>>>(I("g_in"), I("g_out"), (unsigned)A(2)); };
        else if (stem == "reduce_first_add")
            launch = [&] { k_reduce_first_add::reduce_first_add<<<g, b, sh>>>(I("g_in"), I("g_out"), (unsigned)A(2)); };
        else if (stem == "reduce_unrolled_volatile")
            launch = [&] { k_reduce_unrolled_volatile::reduce_unrolled_volatile<<<g, b, sh>>>(I("g_in"), I("g_out"), (unsigned)A(2)); };
        else if (stem == "reduce_sequential")
            launch = [&] { k_reduce_sequential::reduce_sequential<<<g, b, sh>>>(F("g_in"), F("g_out"), (unsigned)A(2)); };
        else if (stem == "reduce_warp_shfl")
            launch = [&] { k_reduce_warp_shfl::reduce_warp_shfl<<<g, b, sh>>>(F("g_in"), F("g_out"), (unsigned)A(2)); };
        else if (stem == "scan_hillis_steele")
            launch = [&] { k_scan_hillis_steele::scan_hillis_steele<<<g, b, sh>>>(F("in"), F("out"), (int)A(2)); };
        else if (stem == "stencil2d")
            launch = [&] { k_stencil2d::stencil2d<<<g, b, sh>>>(F("in"), F("out"), (int)A(2), (int)A(3), (float)A(4), (float)A(5)); };
        else if (stem == "histogram")
            launch = [&] { k_histogram::histogram<<<g, b, sh>>>(U("data"), U("hist"), (int)A(2)); };
        else if (stem == "templates_device")
            launch = [&] { k_templates_device::smooth_squares<2, float><<<g, b, sh>>>(F("in"), F("out"), (int)A(2)); };
        else if (stem == "control_flow")
            launch = [&] { k_control_flow::control_flow<<<g, b, sh>>>(I("in"), I("out"), F("total"), (int)A(3)); };
        else {
            fprintf(stderr, "%s: no CUDA launch known\n", stem.c_str());
            return 1;
        }

        // One launch on the pristine inputs: the outputs to compare.
        launch();
        CHECK(cudaGetLastError());
        CHECK(cudaDeviceSynchronize());
        std::map<std::string, std::vector<char>> out;
        for (const BufDesc& bd : m.bufs) {
            if (!bd.rw) continue;
            std::vector<char> bytes(bd.elements * 4);
            CHECK(cudaMemcpy(bytes.data(), dev[bd.name], bytes.size(), cudaMemcpyDeviceToHost));
            write_file(dir + "/cuda/" + stem + "." + bd.name + ".bin", bytes.data(), bytes.size());
            out[bd.name] = std::move(bytes);
        }

        // Per-element magnitudes that rounding errors scale with, where the
        // result is a sum whose order or contraction may legally differ.
        auto fin = [&](const char* n) { return reinterpret_cast<const float*>(host_in.at(n).data()); };
        std::map<std::string, std::vector<float>> mag;
        if (stem == "saxpy") {
            size_t n = (size_t)A(0);
            float a = (float)A(3);
            std::vector<float> v(n);
            for (size_t i = 0; i < n; i++) v[i] = fabsf(a * fin("x")[i]) + fabsf(fin("y")[i]);
            mag["y"] = v;
        } else if (stem == "matmul_naive" || stem == "matmul_tiled") {
            int N = (int)A(3);
            size_t nn = (size_t)N * N;
            float *dA, *dB, *dC;
            CHECK(cudaMalloc(&dA, nn * 4));
            CHECK(cudaMalloc(&dB, nn * 4));
            CHECK(cudaMalloc(&dC, nn * 4));
            CHECK(cudaMemcpy(dA, fin("A"), nn * 4, cudaMemcpyHostToDevice));
            CHECK(cudaMemcpy(dB, fin("B"), nn * 4, cudaMemcpyHostToDevice));
            abs_matmul<<<dim3((N + 15) / 16, (N + 15) / 16), dim3(16, 16)>>>(dA, dB, dC, N);
            std::vector<float> v(nn);
            CHECK(cudaMemcpy(v.data(), dC, nn * 4, cudaMemcpyDeviceToHost));
            cudaFree(dA);
            cudaFree(dB);
            cudaFree(dC);
            mag["C"] = v;
        } else if (stem == "reduce_sequential" || stem == "reduce_warp_shfl") {
            size_t n = (size_t)A(2), per = m.block.x, blocks = m.grid.x;
            std::vector<float> v(blocks, 0.0f);
            for (size_t i = 0; i < n; i++) v[i / per] += fabsf(fin("g_in")[i]);
            mag["g_out"] = v;
        } else if (stem == "scan_hillis_steele") {
            size_t n = (size_t)A(2), per = m.block.x;
            std::vector<float> v(n);
            float s = 0.0f;
            for (size_t i = 0; i < n; i++) {
                if (i % per == 0) s = 0.0f;
                s += fabsf(fin("in")[i]);
                v[i] = s;
            }
            mag["out"] = v;
        } else if (stem == "control_flow") {
            const int* o = reinterpret_cast<const int*>(out.at("out").data());
            double s = 0;
            for (size_t i = 0; i < (size_t)A(3); i++) s += fabs((float)o[i] * 0.5f);
            mag["total"] = {(float)s};
        }

        // Compare with the WGSL outputs.
        std::ostringstream cmp;
        cmp << "{";
        bool first = true;
        for (const BufDesc& bd : m.bufs) {
            if (!bd.rw) continue;
            std::vector<char> w = read_file(dir + "/wgsl/" + stem + "." + bd.name + ".bin", false);
            const std::vector<char>& c = out[bd.name];
            if (!first) cmp << ",";
            first = false;
            cmp << "\"" << bd.name << "\":{\"ctype\":\"" << bd.ctype << "\",\"elements\":" << bd.elements;
            if (w.size() != c.size()) {
                cmp << ",\"missing_wgsl_output\":true}";
                continue;
            }
            size_t mismatches = 0, first_bad = SIZE_MAX;
            uint32_t max_ulp = 0;
            double max_abs = 0, max_rel_mag = 0;
            for (size_t i = 0; i < bd.elements; i++) {
                uint32_t wb, cb;
                memcpy(&wb, &w[4 * i], 4);
                memcpy(&cb, &c[4 * i], 4);
                if (wb == cb) continue;
                mismatches++;
                if (first_bad == SIZE_MAX) first_bad = i;
                if (bd.ctype == "f32") {
                    float wf, cf;
                    memcpy(&wf, &wb, 4);
                    memcpy(&cf, &cb, 4);
                    max_ulp = std::max(max_ulp, ulp_distance(wf, cf));
                    double d = fabs((double)wf - (double)cf);
                    max_abs = std::max(max_abs, d);
                    auto it = mag.find(bd.name);
                    double mg = it != mag.end() ? it->second[i] : fabs((double)cf);
                    max_rel_mag = std::max(max_rel_mag, d / std::max(mg, 1e-30));
                } else {
                    int64_t d = bd.ctype == "i32" ? (int64_t)(int32_t)wb - (int32_t)cb : (int64_t)wb - (int64_t)cb;
                    max_abs = std::max(max_abs, (double)std::llabs(d));
                }
            }
            char tmp[512];
            snprintf(tmp, sizeof tmp,
                     ",\"mismatches\":%zu,\"max_ulp\":%u,\"max_abs\":%.9g,\"max_err_over_magnitude\":%.9g,"
                     "\"magnitude\":\"%s\"",
                     mismatches, max_ulp, max_abs, max_rel_mag,
                     mag.count(bd.name) ? "per-kernel" : "abs(cuda value)");
            cmp << tmp;
            if (first_bad != SIZE_MAX) {
                uint32_t wb, cb;
                memcpy(&wb, &w[4 * first_bad], 4);
                memcpy(&cb, &c[4 * first_bad], 4);
                snprintf(tmp, sizeof tmp, ",\"first_mismatch\":{\"index\":%zu,\"wgsl_bits\":%u,\"cuda_bits\":%u}",
                         first_bad, wb, cb);
                cmp << tmp;
            }
            cmp << "}";
        }
        cmp << "}";

        // Timing: warm-up, then one event pair per launch.
        for (int i = 0; i < m.warmup; i++) launch();
        CHECK(cudaGetLastError());
        CHECK(cudaDeviceSynchronize());
        std::vector<cudaEvent_t> ev(2 * m.iterations);
        for (auto& e : ev) CHECK(cudaEventCreate(&e));
        for (int i = 0; i < m.iterations; i++) {
            CHECK(cudaEventRecord(ev[2 * i]));
            launch();
            CHECK(cudaEventRecord(ev[2 * i + 1]));
        }
        CHECK(cudaGetLastError());
        CHECK(cudaDeviceSynchronize());
        std::vector<double> ms(m.iterations);
        for (int i = 0; i < m.iterations; i++) {
            float t;
            CHECK(cudaEventElapsedTime(&t, ev[2 * i], ev[2 * i + 1]));
            ms[i] = t;
        }
        for (auto& e : ev) cudaEventDestroy(e);
        std::vector<double> s = ms;
        std::sort(s.begin(), s.end());
        size_t n = s.size();
        double median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        size_t p95 = (size_t)std::ceil(0.95 * n);
        p95 = std::min(std::max<size_t>(p95, 1), n) - 1;
        double mean = 0;
        for (double x : s) mean += x;
        mean /= n;
        fprintf(jsonl,
                "{\"kernel\":\"%s\",\"size\":\"%s\",\"grid\":[%u,%u,%u],\"block\":[%u,%u,%u],"
                "\"dynamic_shared_bytes\":%u,\"warmup\":%d,\"iterations\":%d,\"median_ms\":%.6f,"
                "\"min_ms\":%.6f,\"p95_ms\":%.6f,\"mean_ms\":%.6f,\"device\":\"%s\",\"timing_source\":"
                "\"cuda_events\",\"compare\":%s}\n",
                stem.c_str(), m.size.c_str(), g.x, g.y, g.z, b.x, b.y, b.z, sh, m.warmup, m.iterations,
                median, s[0], s[p95], mean, prop.name, cmp.str().c_str());
        fflush(jsonl);
        fprintf(stderr, "%-30s cuda median %.4f ms\n", stem.c_str(), median);
        for (auto& kv : dev) cudaFree(kv.second);
    }
    fclose(jsonl);
    return failures;
}
