package io.jnorm.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PtxResourcesTest {

    @Test
    void loadsACommittedModuleWithOrWithoutTheExtension() {
        String ptx = PtxResources.load("emulator_selftest");
        assertTrue(ptx.contains(".version 9.0") && ptx.contains(".entry axpy_f32("), "not the self-test PTX");
        assertEquals(ptx, PtxResources.load("emulator_selftest.ptx"));
    }

    @Test
    void aMissingModuleSaysWhereItShouldComeFrom() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PtxResources.load("layer_nrom"));
        assertTrue(e.getMessage().contains("io/jnorm/ptx/layer_nrom.ptx")
                && e.getMessage().contains("tools/build-ptx")
                && e.getMessage().contains("src/main/cuda/layer_nrom.cu"), e.getMessage());
    }

    @Test
    void pathsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> PtxResources.load("../secrets"));
        assertThrows(IllegalArgumentException.class, () -> PtxResources.load(" "));
    }
}
