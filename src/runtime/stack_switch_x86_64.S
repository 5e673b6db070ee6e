// void ws_call_on_stack(void* arg, void (*fn)(void*), void* stack_top)
//
// Calls fn(arg) with the stack pointer at stack_top (16-byte aligned), then returns on the
// caller's stack. The frame pointer keeps the caller's stack pointer, so debuggers and
// unwinders walk from guest frames back into the host. A trap leaves by longjmp, which
// restores the host stack pointer itself.
        .text
        .globl  ws_call_on_stack
        .hidden ws_call_on_stack
        .type   ws_call_on_stack, @function
ws_call_on_stack:
        .cfi_startproc
        pushq   %rbp
        .cfi_def_cfa_offset 16
        .cfi_offset %rbp, -16
        movq    %rsp, %rbp
        .cfi_def_cfa_register %rbp
        movq    %rdx, %rsp
        callq   *%rsi
        movq    %rbp, %rsp
        popq    %rbp
        .cfi_def_cfa %rsp, 8
        ret
        .cfi_endproc
        .size   ws_call_on_stack, .-ws_call_on_stack

        .section .note.GNU-stack,"",@progbits
