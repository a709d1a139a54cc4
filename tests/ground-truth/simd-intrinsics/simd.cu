// Every SIMD-in-a-word and DPX intrinsic of the CUDA Math API that
// cudalens lowers, and __byte_perm with selectors of every nibble, computed
// by the GPU on fixed inputs; prints `name,a,b,result` (hex), the table
// the references of server/wgsl/tests/integer_and_half_intrinsics.rs (its
// SIMD, DPX and __byte_perm tests) are read against. Run with run.sh.
#include <cstdio>

constexpr int N = 64;
constexpr int COUNT = 135;

static const char* NAMES[COUNT] = {
    "__vabs2",
    "__vabsss2",
    "__vneg2",
    "__vnegss2",
    "__vabs4",
    "__vabsss4",
    "__vneg4",
    "__vnegss4",
    "__vabsdiffs2",
    "__vabsdiffu2",
    "__vadd2",
    "__vaddss2",
    "__vaddus2",
    "__vsub2",
    "__vsubss2",
    "__vsubus2",
    "__vmaxs2",
    "__vmaxu2",
    "__vmins2",
    "__vminu2",
    "__vhaddu2",
    "__vavgu2",
    "__vavgs2",
    "__vsads2",
    "__vsadu2",
    "__vcmpeq2",
    "__vcmpne2",
    "__vcmpges2",
    "__vcmpgeu2",
    "__vcmpgts2",
    "__vcmpgtu2",
    "__vcmples2",
    "__vcmpleu2",
    "__vcmplts2",
    "__vcmpltu2",
    "__vseteq2",
    "__vsetne2",
    "__vsetges2",
    "__vsetgeu2",
    "__vsetgts2",
    "__vsetgtu2",
    "__vsetles2",
    "__vsetleu2",
    "__vsetlts2",
    "__vsetltu2",
    "__vabsdiffs4",
    "__vabsdiffu4",
    "__vadd4",
    "__vaddss4",
    "__vaddus4",
    "__vsub4",
    "__vsubss4",
    "__vsubus4",
    "__vmaxs4",
    "__vmaxu4",
    "__vmins4",
    "__vminu4",
    "__vhaddu4",
    "__vavgu4",
    "__vavgs4",
    "__vsads4",
    "__vsadu4",
    "__vcmpeq4",
    "__vcmpne4",
    "__vcmpges4",
    "__vcmpgeu4",
    "__vcmpgts4",
    "__vcmpgtu4",
    "__vcmples4",
    "__vcmpleu4",
    "__vcmplts4",
    "__vcmpltu4",
    "__vseteq4",
    "__vsetne4",
    "__vsetges4",
    "__vsetgeu4",
    "__vsetgts4",
    "__vsetgtu4",
    "__vsetles4",
    "__vsetleu4",
    "__vsetlts4",
    "__vsetltu4",
    // The selector is a ^ b: its nibbles' fourth bit, which the Math API
    // says is not read and PTX's prmt reads as "replicate the sign".
    "__byte_perm@a^b",
    // sm_90's DPX functions, a third operand c = a ^ b; a `__vib*`'s
    // predicates as (hi << 1) | lo, the row after its value.
    "__viaddmax_s32@c=a^b",
    "__viaddmax_s32_relu@c=a^b",
    "__viaddmin_s32@c=a^b",
    "__viaddmin_s32_relu@c=a^b",
    "__vimax3_s32@c=a^b",
    "__vimax3_s32_relu@c=a^b",
    "__vimin3_s32@c=a^b",
    "__vimin3_s32_relu@c=a^b",
    "__vimax_s32",
    "__vimax_s32_relu",
    "__vimin_s32",
    "__vimin_s32_relu",
    "__viaddmax_u32@c=a^b",
    "__viaddmin_u32@c=a^b",
    "__vimax3_u32@c=a^b",
    "__vimin3_u32@c=a^b",
    "__vimax_u32",
    "__vimin_u32",
    "__viaddmax_s16x2@c=a^b",
    "__viaddmax_s16x2_relu@c=a^b",
    "__viaddmin_s16x2@c=a^b",
    "__viaddmin_s16x2_relu@c=a^b",
    "__vimax3_s16x2@c=a^b",
    "__vimax3_s16x2_relu@c=a^b",
    "__vimin3_s16x2@c=a^b",
    "__vimin3_s16x2_relu@c=a^b",
    "__vimax_s16x2",
    "__vimax_s16x2_relu",
    "__vimin_s16x2",
    "__vimin_s16x2_relu",
    "__viaddmax_u16x2@c=a^b",
    "__viaddmin_u16x2@c=a^b",
    "__vimax3_u16x2@c=a^b",
    "__vimin3_u16x2@c=a^b",
    "__vimax_u16x2",
    "__vimin_u16x2",
    "__vibmax_s32",
    "__vibmax_s32@preds",
    "__vibmin_s32",
    "__vibmin_s32@preds",
    "__vibmax_u32",
    "__vibmax_u32@preds",
    "__vibmin_u32",
    "__vibmin_u32@preds",
    "__vibmax_s16x2",
    "__vibmax_s16x2@preds",
    "__vibmin_s16x2",
    "__vibmin_s16x2@preds",
    "__vibmax_u16x2",
    "__vibmax_u16x2@preds",
    "__vibmin_u16x2",
    "__vibmin_u16x2@preds",
};

__global__ void simd(const unsigned* a, const unsigned* b, unsigned* out) {
    int i = threadIdx.x;
    out[0 * N + i] = __vabs2(a[i]);
    out[1 * N + i] = __vabsss2(a[i]);
    out[2 * N + i] = __vneg2(a[i]);
    out[3 * N + i] = __vnegss2(a[i]);
    out[4 * N + i] = __vabs4(a[i]);
    out[5 * N + i] = __vabsss4(a[i]);
    out[6 * N + i] = __vneg4(a[i]);
    out[7 * N + i] = __vnegss4(a[i]);
    out[8 * N + i] = __vabsdiffs2(a[i], b[i]);
    out[9 * N + i] = __vabsdiffu2(a[i], b[i]);
    out[10 * N + i] = __vadd2(a[i], b[i]);
    out[11 * N + i] = __vaddss2(a[i], b[i]);
    out[12 * N + i] = __vaddus2(a[i], b[i]);
    out[13 * N + i] = __vsub2(a[i], b[i]);
    out[14 * N + i] = __vsubss2(a[i], b[i]);
    out[15 * N + i] = __vsubus2(a[i], b[i]);
    out[16 * N + i] = __vmaxs2(a[i], b[i]);
    out[17 * N + i] = __vmaxu2(a[i], b[i]);
    out[18 * N + i] = __vmins2(a[i], b[i]);
    out[19 * N + i] = __vminu2(a[i], b[i]);
    out[20 * N + i] = __vhaddu2(a[i], b[i]);
    out[21 * N + i] = __vavgu2(a[i], b[i]);
    out[22 * N + i] = __vavgs2(a[i], b[i]);
    out[23 * N + i] = __vsads2(a[i], b[i]);
    out[24 * N + i] = __vsadu2(a[i], b[i]);
    out[25 * N + i] = __vcmpeq2(a[i], b[i]);
    out[26 * N + i] = __vcmpne2(a[i], b[i]);
    out[27 * N + i] = __vcmpges2(a[i], b[i]);
    out[28 * N + i] = __vcmpgeu2(a[i], b[i]);
    out[29 * N + i] = __vcmpgts2(a[i], b[i]);
    out[30 * N + i] = __vcmpgtu2(a[i], b[i]);
    out[31 * N + i] = __vcmples2(a[i], b[i]);
    out[32 * N + i] = __vcmpleu2(a[i], b[i]);
    out[33 * N + i] = __vcmplts2(a[i], b[i]);
    out[34 * N + i] = __vcmpltu2(a[i], b[i]);
    out[35 * N + i] = __vseteq2(a[i], b[i]);
    out[36 * N + i] = __vsetne2(a[i], b[i]);
    out[37 * N + i] = __vsetges2(a[i], b[i]);
    out[38 * N + i] = __vsetgeu2(a[i], b[i]);
    out[39 * N + i] = __vsetgts2(a[i], b[i]);
    out[40 * N + i] = __vsetgtu2(a[i], b[i]);
    out[41 * N + i] = __vsetles2(a[i], b[i]);
    out[42 * N + i] = __vsetleu2(a[i], b[i]);
    out[43 * N + i] = __vsetlts2(a[i], b[i]);
    out[44 * N + i] = __vsetltu2(a[i], b[i]);
    out[45 * N + i] = __vabsdiffs4(a[i], b[i]);
    out[46 * N + i] = __vabsdiffu4(a[i], b[i]);
    out[47 * N + i] = __vadd4(a[i], b[i]);
    out[48 * N + i] = __vaddss4(a[i], b[i]);
    out[49 * N + i] = __vaddus4(a[i], b[i]);
    out[50 * N + i] = __vsub4(a[i], b[i]);
    out[51 * N + i] = __vsubss4(a[i], b[i]);
    out[52 * N + i] = __vsubus4(a[i], b[i]);
    out[53 * N + i] = __vmaxs4(a[i], b[i]);
    out[54 * N + i] = __vmaxu4(a[i], b[i]);
    out[55 * N + i] = __vmins4(a[i], b[i]);
    out[56 * N + i] = __vminu4(a[i], b[i]);
    out[57 * N + i] = __vhaddu4(a[i], b[i]);
    out[58 * N + i] = __vavgu4(a[i], b[i]);
    out[59 * N + i] = __vavgs4(a[i], b[i]);
    out[60 * N + i] = __vsads4(a[i], b[i]);
    out[61 * N + i] = __vsadu4(a[i], b[i]);
    out[62 * N + i] = __vcmpeq4(a[i], b[i]);
    out[63 * N + i] = __vcmpne4(a[i], b[i]);
    out[64 * N + i] = __vcmpges4(a[i], b[i]);
    out[65 * N + i] = __vcmpgeu4(a[i], b[i]);
    out[66 * N + i] = __vcmpgts4(a[i], b[i]);
    out[67 * N + i] = __vcmpgtu4(a[i], b[i]);
    out[68 * N + i] = __vcmples4(a[i], b[i]);
    out[69 * N + i] = __vcmpleu4(a[i], b[i]);
    out[70 * N + i] = __vcmplts4(a[i], b[i]);
    out[71 * N + i] = __vcmpltu4(a[i], b[i]);
    out[72 * N + i] = __vseteq4(a[i], b[i]);
    out[73 * N + i] = __vsetne4(a[i], b[i]);
    out[74 * N + i] = __vsetges4(a[i], b[i]);
    out[75 * N + i] = __vsetgeu4(a[i], b[i]);
    out[76 * N + i] = __vsetgts4(a[i], b[i]);
    out[77 * N + i] = __vsetgtu4(a[i], b[i]);
    out[78 * N + i] = __vsetles4(a[i], b[i]);
    out[79 * N + i] = __vsetleu4(a[i], b[i]);
    out[80 * N + i] = __vsetlts4(a[i], b[i]);
    out[81 * N + i] = __vsetltu4(a[i], b[i]);
    out[82 * N + i] = __byte_perm(a[i], b[i], a[i] ^ b[i]);
    bool hi, lo;
    out[83 * N + i] = __viaddmax_s32(a[i], b[i], a[i] ^ b[i]);
    out[84 * N + i] = __viaddmax_s32_relu(a[i], b[i], a[i] ^ b[i]);
    out[85 * N + i] = __viaddmin_s32(a[i], b[i], a[i] ^ b[i]);
    out[86 * N + i] = __viaddmin_s32_relu(a[i], b[i], a[i] ^ b[i]);
    out[87 * N + i] = __vimax3_s32(a[i], b[i], a[i] ^ b[i]);
    out[88 * N + i] = __vimax3_s32_relu(a[i], b[i], a[i] ^ b[i]);
    out[89 * N + i] = __vimin3_s32(a[i], b[i], a[i] ^ b[i]);
    out[90 * N + i] = __vimin3_s32_relu(a[i], b[i], a[i] ^ b[i]);
    out[91 * N + i] = __vimax_s32(a[i], b[i]);
    out[92 * N + i] = __vimax_s32_relu(a[i], b[i]);
    out[93 * N + i] = __vimin_s32(a[i], b[i]);
    out[94 * N + i] = __vimin_s32_relu(a[i], b[i]);
    out[95 * N + i] = __viaddmax_u32(a[i], b[i], a[i] ^ b[i]);
    out[96 * N + i] = __viaddmin_u32(a[i], b[i], a[i] ^ b[i]);
    out[97 * N + i] = __vimax3_u32(a[i], b[i], a[i] ^ b[i]);
    out[98 * N + i] = __vimin3_u32(a[i], b[i], a[i] ^ b[i]);
    out[99 * N + i] = __vimax_u32(a[i], b[i]);
    out[100 * N + i] = __vimin_u32(a[i], b[i]);
    out[101 * N + i] = __viaddmax_s16x2(a[i], b[i], a[i] ^ b[i]);
    out[102 * N + i] = __viaddmax_s16x2_relu(a[i], b[i], a[i] ^ b[i]);
    out[103 * N + i] = __viaddmin_s16x2(a[i], b[i], a[i] ^ b[i]);
    out[104 * N + i] = __viaddmin_s16x2_relu(a[i], b[i], a[i] ^ b[i]);
    out[105 * N + i] = __vimax3_s16x2(a[i], b[i], a[i] ^ b[i]);
    out[106 * N + i] = __vimax3_s16x2_relu(a[i], b[i], a[i] ^ b[i]);
    out[107 * N + i] = __vimin3_s16x2(a[i], b[i], a[i] ^ b[i]);
    out[108 * N + i] = __vimin3_s16x2_relu(a[i], b[i], a[i] ^ b[i]);
    out[109 * N + i] = __vimax_s16x2(a[i], b[i]);
    out[110 * N + i] = __vimax_s16x2_relu(a[i], b[i]);
    out[111 * N + i] = __vimin_s16x2(a[i], b[i]);
    out[112 * N + i] = __vimin_s16x2_relu(a[i], b[i]);
    out[113 * N + i] = __viaddmax_u16x2(a[i], b[i], a[i] ^ b[i]);
    out[114 * N + i] = __viaddmin_u16x2(a[i], b[i], a[i] ^ b[i]);
    out[115 * N + i] = __vimax3_u16x2(a[i], b[i], a[i] ^ b[i]);
    out[116 * N + i] = __vimin3_u16x2(a[i], b[i], a[i] ^ b[i]);
    out[117 * N + i] = __vimax_u16x2(a[i], b[i]);
    out[118 * N + i] = __vimin_u16x2(a[i], b[i]);
    hi = false; lo = false;
    out[119 * N + i] = __vibmax_s32(a[i], b[i], &hi);
    out[120 * N + i] = (hi ? 2u : 0u) | (lo ? 1u : 0u);
    hi = false; lo = false;
    out[121 * N + i] = __vibmin_s32(a[i], b[i], &hi);
    out[122 * N + i] = (hi ? 2u : 0u) | (lo ? 1u : 0u);
    hi = false; lo = false;
    out[123 * N + i] = __vibmax_u32(a[i], b[i], &hi);
    out[124 * N + i] = (hi ? 2u : 0u) | (lo ? 1u : 0u);
    hi = false; lo = false;
    out[125 * N + i] = __vibmin_u32(a[i], b[i], &hi);
    out[126 * N + i] = (hi ? 2u : 0u) | (lo ? 1u : 0u);
    hi = false; lo = false;
    out[127 * N + i] = __vibmax_s16x2(a[i], b[i], &hi, &lo);
    out[128 * N + i] = (hi ? 2u : 0u) | (lo ? 1u : 0u);
    hi = false; lo = false;
    out[129 * N + i] = __vibmin_s16x2(a[i], b[i], &hi, &lo);
    out[130 * N + i] = (hi ? 2u : 0u) | (lo ? 1u : 0u);
    hi = false; lo = false;
    out[131 * N + i] = __vibmax_u16x2(a[i], b[i], &hi, &lo);
    out[132 * N + i] = (hi ? 2u : 0u) | (lo ? 1u : 0u);
    hi = false; lo = false;
    out[133 * N + i] = __vibmin_u16x2(a[i], b[i], &hi, &lo);
    out[134 * N + i] = (hi ? 2u : 0u) | (lo ? 1u : 0u);
}

// xorshift32, as the test's inputs are made.
static unsigned next(unsigned& s) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return s;
}

int main() {
    unsigned a[N], b[N];
    unsigned s = 0x2545f491u;
    for (int i = 0; i < N; i++) a[i] = next(s);
    for (int i = 0; i < N; i++) b[i] = next(s);
    // Lanes at their extremes, and equal lanes for the comparisons.
    a[0] = 0x80808080u; b[0] = 0x7f7f7f7fu;
    a[1] = 0x7fff8000u; b[1] = 0x7fff8000u;
    a[2] = 0xffff00ffu; b[2] = 0x0001ff01u;
    a[3] = 0x80007f80u; b[3] = 0x7fff8001u;
    unsigned *da, *db, *dout;
    cudaMalloc(&da, sizeof a);
    cudaMalloc(&db, sizeof b);
    cudaMalloc(&dout, sizeof(unsigned) * N * COUNT);
    cudaMemcpy(da, a, sizeof a, cudaMemcpyHostToDevice);
    cudaMemcpy(db, b, sizeof b, cudaMemcpyHostToDevice);
    simd<<<1, N>>>(da, db, dout);
    static unsigned out[N * COUNT];
    if (cudaMemcpy(out, dout, sizeof out, cudaMemcpyDeviceToHost) != cudaSuccess) return 1;
    printf("name,a,b,result\n");
    for (int k = 0; k < COUNT; k++)
        for (int i = 0; i < N; i++)
            printf("%s,%08x,%08x,%08x\n", NAMES[k], a[i], b[i], out[k * N + i]);
    return 0;
}
