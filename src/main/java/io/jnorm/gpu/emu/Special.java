package io.jnorm.gpu.emu;

/** Special registers. Those constant within a block become pre-filled register slots. */
final class Special {
    private Special() {
    }

    static final int TID_X = 0, TID_Y = 1, TID_Z = 2, NTID_X = 3, NTID_Y = 4, NTID_Z = 5, CTAID_X = 6,
            CTAID_Y = 7, CTAID_Z = 8, NCTAID_X = 9, NCTAID_Y = 10, NCTAID_Z = 11, LANEID = 12, WARPID = 13,
            NWARPID = 14, SMID = 15, NSMID = 16, GRIDID = 17, LANEMASK_EQ = 18, LANEMASK_LE = 19,
            LANEMASK_LT = 20, LANEMASK_GE = 21, LANEMASK_GT = 22, DYN_SMEM = 23, TOTAL_SMEM = 24;
    /** Specials read through the CLOCK instruction, because they change while a block runs. */
    static final int CLOCK = 100, CLOCK64 = 101, GLOBALTIMER = 102;

    static int of(String name) {
        switch (name) {
            case "%tid.x": return TID_X;
            case "%tid.y": return TID_Y;
            case "%tid.z": return TID_Z;
            case "%ntid.x": return NTID_X;
            case "%ntid.y": return NTID_Y;
            case "%ntid.z": return NTID_Z;
            case "%ctaid.x": return CTAID_X;
            case "%ctaid.y": return CTAID_Y;
            case "%ctaid.z": return CTAID_Z;
            case "%nctaid.x": return NCTAID_X;
            case "%nctaid.y": return NCTAID_Y;
            case "%nctaid.z": return NCTAID_Z;
            case "%laneid": return LANEID;
            case "%warpid": return WARPID;
            case "%nwarpid": return NWARPID;
            case "%smid": return SMID;
            case "%nsmid": return NSMID;
            case "%gridid": return GRIDID;
            case "%lanemask_eq": return LANEMASK_EQ;
            case "%lanemask_le": return LANEMASK_LE;
            case "%lanemask_lt": return LANEMASK_LT;
            case "%lanemask_ge": return LANEMASK_GE;
            case "%lanemask_gt": return LANEMASK_GT;
            case "%dynamic_smem_size": return DYN_SMEM;
            case "%total_smem_size": return TOTAL_SMEM;
            case "%clock": return CLOCK;
            case "%clock64": return CLOCK64;
            case "%globaltimer": return GLOBALTIMER;
            default: return -1;
        }
    }
}
