// Exception entry and return, known answers: the thread code fills every
// register (r0-r12, lr, the APSR flags) with a pattern, with the stack 4 bytes
// off 8-byte alignment, and calls `svc #0x12`; the handler notes what the
// exception entry gave it (IPSR, lr = EXC_RETURN, the stacked frame, its SP)
// and clobbers r0-r3, r12 and the flags, which the return must restore.
// kat.c checks and prints it all.
    .syntax unified
    .thumb

    .global kat_svc
    .thumb_func
kat_svc:                        // void kat_svc(uint32_t *after): after[0..13] r0-r12, lr; [14] apsr
    push {r4-r11, lr}
    ldr r1, =kat_buffer
    str r0, [r1]
    // 9 words pushed on the caller's 8-aligned SP: SP = 4 mod 8, the frame needs its pad
    mov r0, sp
    ldr r1, =kat_sp_before
    str r0, [r1]
    ldr r0, =0xF8000000         // N Z C V Q
    msr APSR_nzcvq, r0
    ldr r0, =0x10101010
    ldr r1, =0x11111111
    ldr r2, =0x12121212
    ldr r3, =0x13131313
    ldr r4, =0x14141414
    ldr r5, =0x15151515
    ldr r6, =0x16161616
    ldr r7, =0x17171717
    ldr r8, =0x18181818
    ldr r9, =0x19191919
    ldr r10, =0x1A1A1A1A
    ldr r11, =0x1B1B1B1B
    ldr r12, =0x1C1C1C1C
    ldr lr, =0x1E1E1E1F
    .global kat_svc_insn
kat_svc_insn:
    svc #0x12
    .global kat_after_svc
kat_after_svc:
    push {r0-r12, lr}           // what came back, before anything changes it
    mrs r0, apsr
    ldr r1, =kat_buffer
    ldr r1, [r1]
    str r0, [r1, #56]
    mov r2, sp
    ldr r3, =kat_sp_after
    add r4, r2, #56
    str r4, [r3]
    movs r3, #0
1:  ldr r0, [r2, r3]
    str r0, [r1, r3]
    adds r3, r3, #4
    cmp r3, #56
    bne 1b
    add sp, sp, #56
    pop {r4-r11, pc}

    .global svc_handler
    .thumb_func
svc_handler:
    ldr r1, =kat_handler
    mrs r0, ipsr
    str r0, [r1, #0]
    str lr, [r1, #4]
    mov r0, sp
    str r0, [r1, #8]
    ldr r0, [sp, #24]           // the stacked return address
    str r0, [r1, #12]
    ldr r0, [sp, #28]           // the stacked xPSR (bit 9: the frame was padded)
    str r0, [r1, #16]
    ldr r0, [sp, #0]            // the stacked r0 and r12
    str r0, [r1, #20]
    ldr r0, [sp, #16]
    str r0, [r1, #24]
    ldr r0, [sp, #20]           // the stacked lr
    str r0, [r1, #28]
    movs r0, #0                 // clobber what the frame restores (and the flags: Z)
    movs r1, #0
    movs r2, #0
    movs r3, #0
    mov r12, r0
    bx lr

    .bss
    .balign 4
kat_buffer: .word 0
    .global kat_sp_before, kat_sp_after, kat_handler
kat_sp_before: .word 0
kat_sp_after: .word 0
kat_handler: .space 32
