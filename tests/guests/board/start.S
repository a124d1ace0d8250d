// Boot code and exception vectors of the echo firmware (EL1, AArch64).
// The entries' CFI (in .debug_frame: the link script drops .eh_frame) makes each the
// outermost frame for a debugger: the interrupted code's pc is in ELR_EL1, not in x30.
    .cfi_sections .debug_frame
.section .text.boot, "ax"
.global _start
_start:
    ldr x0, =__stack_top
    mov sp, x0
    ldr x0, =vectors
    msr vbar_el1, x0
    isb
    ldr x0, =__bss_start
    ldr x1, =__bss_end
1:  cmp x0, x1
    b.hs 2f
    str xzr, [x0], #8
    b 1b
2:  bl main
    bl shutdown
3:  b 3b

.macro ventry target
    .balign 0x80
    b \target
.endm

    .text
    .balign 0x800
vectors:
    ventry unexpected      // current EL, SP0: sync
    ventry unexpected      //   irq
    ventry unexpected      //   fiq
    ventry unexpected      //   serror
    ventry sync_entry      // current EL, SPx: sync
    ventry irq_entry       //   irq
    ventry unexpected      //   fiq
    ventry unexpected      //   serror
    ventry unexpected      // lower EL
    ventry unexpected
    ventry unexpected
    ventry unexpected
    ventry unexpected
    ventry unexpected
    ventry unexpected
    ventry unexpected

sync_entry:                // svc, brk, undefined: sync_handler(esr), then back past it
    .cfi_startproc
    .cfi_undefined x30
    stp x0, x1, [sp, #-192]!
    stp x2, x3, [sp, #16]
    stp x4, x5, [sp, #32]
    stp x6, x7, [sp, #48]
    stp x8, x9, [sp, #64]
    stp x10, x11, [sp, #80]
    stp x12, x13, [sp, #96]
    stp x14, x15, [sp, #112]
    stp x16, x17, [sp, #128]
    stp x18, x29, [sp, #144]
    str x30, [sp, #160]
    mrs x0, esr_el1
    bl sync_handler
    b restore
    .cfi_endproc

irq_entry:
    .cfi_startproc
    .cfi_undefined x30
    stp x0, x1, [sp, #-192]!
    stp x2, x3, [sp, #16]
    stp x4, x5, [sp, #32]
    stp x6, x7, [sp, #48]
    stp x8, x9, [sp, #64]
    stp x10, x11, [sp, #80]
    stp x12, x13, [sp, #96]
    stp x14, x15, [sp, #112]
    stp x16, x17, [sp, #128]
    stp x18, x29, [sp, #144]
    str x30, [sp, #160]
    bl irq_handler
    .cfi_endproc
restore:
    ldp x2, x3, [sp, #16]
    ldp x4, x5, [sp, #32]
    ldp x6, x7, [sp, #48]
    ldp x8, x9, [sp, #64]
    ldp x10, x11, [sp, #80]
    ldp x12, x13, [sp, #96]
    ldp x14, x15, [sp, #112]
    ldp x16, x17, [sp, #128]
    ldp x18, x29, [sp, #144]
    ldr x30, [sp, #160]
    ldp x0, x1, [sp], #192
    eret

unexpected:
    mov x0, #99
    bl semihosting_exit
4:  b 4b

// The default sync_handler: an unexpected exception ends the run with status 99.
    .weak sync_handler
sync_handler:
    b unexpected

// void semihosting_exit(int status): SYS_EXIT, ADP_Stopped_ApplicationExit
.global semihosting_exit
semihosting_exit:
    sub sp, sp, #16
    mov x1, #0x26
    movk x1, #2, lsl #16
    str x1, [sp]
    str x0, [sp, #8]
    mov x1, sp
    mov w0, #0x18
    hlt #0xf000
    add sp, sp, #16
    ret

// void psci_system_off(void)
.global psci_system_off
psci_system_off:
    ldr w0, =0x84000008
    hvc #0
    ret
