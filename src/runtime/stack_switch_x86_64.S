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

// void ws_signal_return(void)
//
// The trampoline a signal handler returns to when it is installed with the rt_sigaction
// system call itself (trap.cc, ThreadSanitizer builds): rt_sigreturn. These are the bytes of
// glibc's __restore_rt, which unwinders recognize as a signal frame.
        .globl  ws_signal_return
        .hidden ws_signal_return
        .type   ws_signal_return, @function
ws_signal_return:
        movq    $15, %rax
        syscall
        .size   ws_signal_return, .-ws_signal_return

        .section .note.GNU-stack,"",@progbits
