// Faults with 16-bit instructions the HardFault handler can step over, and the handler's entry:
// it passes the stacked frame (on MSP) to hardfault_c.
    .syntax unified
    .thumb
    .global do_udf, do_load, hardfault_handler
    .thumb_func
do_udf:
    udf #1
    bx lr
    .thumb_func
do_load:                        // uint32_t do_load(const volatile uint32_t *p)
    ldr r0, [r0]
    bx lr
    .thumb_func
hardfault_handler:
    mov r0, sp
    b hardfault_c
