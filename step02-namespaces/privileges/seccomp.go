package privileges

import (
	"encoding/binary"
	"fmt"
	"io"

	"golang.org/x/net/bpf"
)

// A seccomp filter is a classic-BPF program that the kernel runs on every
// system call, with the call's number, its architecture and its six
// arguments as input (struct seccomp_data). It returns what to do: ALLOW,
// ERRNO|n (fail the call with errno n), KILL, TRAP, LOG. Docker's default
// profile compiles to about a thousand instructions shaped like this:
//
//	ld  [4]                      ; arch
//	jne #0xc000003e, default     ; not x86_64: the default action
//	ld  [0]                      ; the system call's number
//	jge #0x40000000, enosys      ; the x32 ABI: ENOSYS
//	jeq #0, allow                ; read
//	jeq #1, allow                ; write
//	...
//	jne #56, next                ; clone:
//	ld  [20]                     ;   the high half of argument 0 (flags)
//	jset #0, next
//	ld  [16]                     ;   the low half
//	jset #0x7e020000, next       ;   any CLONE_NEW* flag: not allowed
//	allow: ret #0x7fff0000       ; SECCOMP_RET_ALLOW
//	...
//	default: ret #0x50001        ; SECCOMP_RET_ERRNO | EPERM
//
// Dump prints a compiled program in that form.

// Dump writes prog (a compiled filter) one instruction a line.
func Dump(w io.Writer, prog []byte) error {
	for i := 0; i+8 <= len(prog); i += 8 {
		ins := decodeInstruction(prog[i:]).Disassemble()
		if _, err := fmt.Fprintf(w, "%4d: %v\n", i/8, ins); err != nil {
			return err
		}
	}
	return nil
}

// encode and decode one struct sock_filter: u16 code, u8 jt, u8 jf, u32 k,
// in the machine's byte order.
func encodeInstruction(b []byte, r bpf.RawInstruction) []byte {
	b = binary.NativeEndian.AppendUint16(b, r.Op)
	b = append(b, r.Jt, r.Jf)
	return binary.NativeEndian.AppendUint32(b, r.K)
}

func decodeInstruction(b []byte) bpf.RawInstruction {
	return bpf.RawInstruction{
		Op: binary.NativeEndian.Uint16(b),
		Jt: b[2],
		Jf: b[3],
		K:  binary.NativeEndian.Uint32(b[4:]),
	}
}
