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

// Both guarded calls begin alike: what the caller expects a call to preserve (the
// callee-saved registers, the stack pointer it returns with, the return address) into the
// point at %rdi, which ws_guarded_unwind() restores; then a frame whose %rbp keeps the host
// stack pointer across the switch.
        .macro SAVE_POINT_AND_FRAME
        movq    %rbx, 0(%rdi)
        movq    %rbp, 8(%rdi)
        movq    %r12, 16(%rdi)
        movq    %r13, 24(%rdi)
        movq    %r14, 32(%rdi)
        movq    %r15, 40(%rdi)
        leaq    8(%rsp), %rax
        movq    %rax, 48(%rdi)
        movq    (%rsp), %rax
        movq    %rax, 56(%rdi)
        pushq   %rbp
        .cfi_def_cfa_offset 16
        .cfi_offset %rbp, -16
        movq    %rsp, %rbp
        .cfi_def_cfa_register %rbp
        .endm

// ...and end alike, when the call returned: back on the host stack, returning 0 (no trap).
        .macro RETURN_NO_TRAP
        movq    %rbp, %rsp
        popq    %rbp
        .cfi_def_cfa %rsp, 8
        xorl    %eax, %eax
        ret
        .endm

// int ws_guarded_call(uint64_t point[8], void (*fn)(void*), void* arg, void* stack_top)
//
// Calls fn(arg), on the stack at stack_top (16-byte aligned) unless it is null, and returns
// 0; or 1, when ws_guarded_unwind(point) is called meanwhile (a trap, from fn or a signal
// handler below it). `point` saves what the caller expects a call to preserve: the
// callee-saved registers, the stack pointer and the return address. As setjmp, without the
// pointer mangling and signal-mask bookkeeping (run_guarded() saves no mask); since the
// unwind returns from this very call, the caller needs no returns_twice care. Not used with
// sanitizers, which must see setjmp/longjmp.
        .globl  ws_guarded_call
        .hidden ws_guarded_call
        .type   ws_guarded_call, @function
ws_guarded_call:
        .cfi_startproc
        SAVE_POINT_AND_FRAME
        testq   %rcx, %rcx
        cmovnzq %rcx, %rsp
        movq    %rdx, %rdi
        callq   *%rsi
        RETURN_NO_TRAP
        .cfi_endproc
        .size   ws_guarded_call, .-ws_guarded_call

// int ws_guarded_call_registers(uint64_t point[8], void* fn, void* stack_top, uint64_t io[6])
//
// ws_guarded_call() for a function whose arguments are all integers (typed_func.h, a call in
// registers): calls fn(io[0], ..., io[5]), the words in the six argument registers, on the
// stack at stack_top (16-byte aligned, not null), and stores what it returns in rax to io[0].
// A function of fewer parameters ignores the registers past them; one returning 32 bits
// leaves the upper half of io[0] undefined. `io` is kept on the host stack, below the frame
// pointer, which the guest stack does not reach.
        .globl  ws_guarded_call_registers
        .hidden ws_guarded_call_registers
        .type   ws_guarded_call_registers, @function
ws_guarded_call_registers:
        .cfi_startproc
        SAVE_POINT_AND_FRAME
        pushq   %rcx
        movq    %rsi, %rax
        movq    %rdx, %rsp
        movq    %rcx, %r10
        movq    0(%r10), %rdi
        movq    8(%r10), %rsi
        movq    16(%r10), %rdx
        movq    24(%r10), %rcx
        movq    32(%r10), %r8
        movq    40(%r10), %r9
        callq   *%rax
        movq    -8(%rbp), %rcx
        movq    %rax, (%rcx)
        RETURN_NO_TRAP
        .cfi_endproc
        .size   ws_guarded_call_registers, .-ws_guarded_call_registers

// void ws_guarded_unwind(const uint64_t point[8])  (does not return)
        .globl  ws_guarded_unwind
        .hidden ws_guarded_unwind
        .type   ws_guarded_unwind, @function
ws_guarded_unwind:
        movq    0(%rdi), %rbx
        movq    8(%rdi), %rbp
        movq    16(%rdi), %r12
        movq    24(%rdi), %r13
        movq    32(%rdi), %r14
        movq    40(%rdi), %r15
        movq    48(%rdi), %rsp
        movl    $1, %eax
        jmpq    *56(%rdi)
        .size   ws_guarded_unwind, .-ws_guarded_unwind

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
