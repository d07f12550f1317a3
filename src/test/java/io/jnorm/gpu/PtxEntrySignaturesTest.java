package io.jnorm.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The parser on nvcc 13's real output (the committed PTX) and on the other forms PTX allows. */
class PtxEntrySignaturesTest {

    private static final String SELFTEST = PtxResources.load("emulator_selftest");

    private static KernelParam p(String name, String type, int size, int align) {
        return new KernelParam(name, type, size, align);
    }

    @Test
    void readsEveryEntryOfTheSelfTestModuleInSourceOrder() {
        Map<String, List<KernelParam>> entries = PtxEntrySignatures.parse(SELFTEST);
        assertEquals(List.of(
                "block_reduce_sum_f32", "block_reduce_sum_f64", "axpy_f32", "axpy_f64",
                "reduce_sum_atomic_f32", "reduce_sum_atomic_f64", "matmul_tiled_f32", "matmul_tiled_f64",
                "affine2d_struct_f32", "affine2d_struct_f64", "copy_coalesced_f32", "copy_float4_f32",
                "copy_stride32_f32", "smem_rowsum_conflict_f32", "smem_rowsum_padded_f32"),
                List.copyOf(entries.keySet()));
    }

    @Test
    void scalarParametersTakeTheirSizeAsAlignment() {
        assertEquals(List.of(
                        p("axpy_f64_param_0", "u32", 4, 4),
                        p("axpy_f64_param_1", "f64", 8, 8),
                        p("axpy_f64_param_2", "u64", 8, 8),
                        p("axpy_f64_param_3", "u64", 8, 8)),
                PtxEntrySignatures.of(SELFTEST, "axpy_f64"));
        assertEquals(p("axpy_f32_param_1", "f32", 4, 4), PtxEntrySignatures.of(SELFTEST, "axpy_f32").get(1));
    }

    @Test
    void byValueStructsAreAlignedByteArrays() {
        // Affine2d<T>: two pointers, four ints, scale and shift -> 40 bytes for float, 48 for double.
        assertEquals(List.of(p("affine2d_struct_f32_param_0", "b8", 40, 8)),
                PtxEntrySignatures.of(SELFTEST, "affine2d_struct_f32"));
        assertEquals(List.of(p("affine2d_struct_f64_param_0", "b8", 48, 8)),
                PtxEntrySignatures.of(SELFTEST, "affine2d_struct_f64"));
    }

    @Test
    void pointerAttributesAndExplicitAlignment() {
        String ptx = """
                .version 9.0
                .target sm_75
                .address_size 64
                // a comment with .entry fake(.param .u32 x) must not count
                .visible .entry k(
                    .param .u64 .ptr .global .align 8 k_in,   /* pointer with its space */
                    .param .u64 .ptr .align 16 k_out,
                    .param .align 4 .b8 k_shape[12],
                    .param .s16 k_small,
                    .param .f32 k_eps
                )
                .maxntid 128, 1, 1
                {
                    ret;
                }
                .entry noargs()
                {
                    ret;
                }
                """;
        Map<String, List<KernelParam>> entries = PtxEntrySignatures.parse(ptx);
        assertEquals(List.of("k", "noargs"), List.copyOf(entries.keySet()));
        assertEquals(List.of(
                p("k_in", "u64", 8, 8),
                p("k_out", "u64", 8, 16),
                p("k_shape", "b8", 12, 4),
                p("k_small", "s16", 2, 2),
                p("k_eps", "f32", 4, 4)), entries.get("k"));
        assertEquals(List.of(), entries.get("noargs"));
    }

    @Test
    void unknownEntryListsTheEntriesThatExist() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PtxEntrySignatures.of(SELFTEST, "axpy_f16"));
        assertTrue(e.getMessage().contains("axpy_f16") && e.getMessage().contains("axpy_f32"), e.getMessage());
    }

    @Test
    void unreadableParameterNamesTheEntryAndTheDeclaration() {
        String ptx = ".visible .entry bad(\n .param .u64 a,\n .param .pred p\n)\n{ ret; }\n";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PtxEntrySignatures.parse(ptx));
        assertTrue(e.getMessage().contains("bad") && e.getMessage().contains(".param .pred p"), e.getMessage());

        String badAlign = ".entry k(.param .align 3 .b8 s[12]) { ret; }";
        e = assertThrows(IllegalArgumentException.class, () -> PtxEntrySignatures.parse(badAlign));
        assertTrue(e.getMessage().contains("power of two"), e.getMessage());
    }
}
