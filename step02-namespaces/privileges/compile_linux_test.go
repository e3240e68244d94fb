package privileges

import (
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// run runs a compiled filter in x/net/bpf's VM on one system call. The VM
// loads words big-endian, the kernel native-endian; each 32-bit word of
// struct seccomp_data is written so that the VM reads the value the kernel
// would.
func run(t *testing.T, prog []byte, archID uint32, nr int, args ...uint64) uint32 {
	t.Helper()
	var insts []bpf.Instruction
	for i := 0; i < len(prog); i += 8 {
		insts = append(insts, decodeInstruction(prog[i:]).Disassemble())
	}
	vm, err := bpf.NewVM(insts)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 64)
	binary.BigEndian.PutUint32(data[0:], uint32(nr))
	binary.BigEndian.PutUint32(data[4:], archID)
	for i, a := range args {
		off := 16 + 8*i
		lo, hi := off, off+4 // little-endian layout of a u64
		if binary.NativeEndian.Uint16([]byte{0, 1}) == 1 {
			lo, hi = off+4, off
		}
		binary.BigEndian.PutUint32(data[lo:], uint32(a))
		binary.BigEndian.PutUint32(data[hi:], uint32(a>>32))
	}
	out, err := vm.Run(data)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(out)
}

const (
	allow = unix.SECCOMP_RET_ALLOW
	eperm = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	enosy = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
)

func TestDefaultProfile(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the syscall numbers below are x86_64's")
	}
	info, err := arch.GetInfo("")
	if err != nil {
		t.Fatal(err)
	}
	nr := func(name string) int {
		n, ok := info.SyscallNames[name]
		if !ok {
			t.Fatalf("no syscall %s", name)
		}
		return n
	}
	def, err := Compile(nil, DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := Compile(nil, append(DefaultCapabilities, "CAP_SYS_ADMIN"))
	if err != nil {
		t.Fatal(err)
	}
	newns := uint64(unix.CLONE_NEWNS | unix.CLONE_NEWUSER)
	tests := []struct {
		name      string
		prog      []byte
		arch      uint32
		call      string
		args      []uint64
		want      uint32
		wantAdmin uint32
	}{
		{name: "read", call: "read", want: allow, wantAdmin: allow},
		{name: "execve", call: "execve", want: allow, wantAdmin: allow},
		{name: "capset", call: "capset", want: allow, wantAdmin: allow},
		{name: "init_module", call: "init_module", want: eperm, wantAdmin: eperm},
		{name: "kexec_load", call: "kexec_load", want: eperm, wantAdmin: eperm},
		{name: "open_by_handle_at", call: "open_by_handle_at", want: eperm, wantAdmin: eperm},
		{name: "keyctl", call: "keyctl", want: eperm, wantAdmin: eperm},
		{name: "mount", call: "mount", want: eperm, wantAdmin: allow},
		{name: "unshare", call: "unshare", want: eperm, wantAdmin: allow},
		{name: "bpf", call: "bpf", want: eperm, wantAdmin: allow},
		{name: "plain clone (a thread, a fork)", call: "clone", args: []uint64{uint64(unix.CLONE_VM | unix.CLONE_THREAD)}, want: allow, wantAdmin: allow},
		{name: "clone of namespaces", call: "clone", args: []uint64{newns}, want: eperm, wantAdmin: allow},
		{name: "clone3 says ENOSYS so libc falls back to clone", call: "clone3", want: enosy, wantAdmin: allow},
		{name: "personality(PER_LINUX)", call: "personality", args: []uint64{0}, want: allow, wantAdmin: allow},
		{name: "personality(other)", call: "personality", args: []uint64{0x0400000}, want: eperm, wantAdmin: eperm},
		{name: "socket(AF_INET)", call: "socket", args: []uint64{unix.AF_INET}, want: allow, wantAdmin: allow},
		{name: "socket(AF_VSOCK)", call: "socket", args: []uint64{unix.AF_VSOCK}, want: eperm, wantAdmin: eperm},
		// The kernel reads socket's and personality's int argument from
		// the low half: a high half of 56 (clone's number) must not make
		// the filter mistake the argument for the call.
		{name: "socket(56<<32|AF_VSOCK)", call: "socket", args: []uint64{56<<32 | unix.AF_VSOCK}, want: eperm, wantAdmin: eperm},
		{name: "personality(56<<32|ADDR_NO_RANDOMIZE)", call: "personality", args: []uint64{56<<32 | 0x0040000}, want: eperm, wantAdmin: eperm},
		{name: "socket(56<<32|AF_ALG)", call: "socket", args: []uint64{56<<32 | unix.AF_ALG}, want: eperm, wantAdmin: eperm},
		{name: "another architecture (i386's read)", arch: 0x40000003, call: "read", want: eperm, wantAdmin: eperm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.arch
			if a == 0 {
				a = uint32(info.ID)
			}
			if got := run(t, def, a, nr(tt.call), tt.args...); got != tt.want {
				t.Errorf("default caps: %s = %#x, want %#x", tt.call, got, tt.want)
			}
			if got := run(t, admin, a, nr(tt.call), tt.args...); got != tt.wantAdmin {
				t.Errorf("with CAP_SYS_ADMIN: %s = %#x, want %#x", tt.call, got, tt.wantAdmin)
			}
		})
	}
	// x32's numbers (with bit 30) are refused whatever they are.
	if got := run(t, def, uint32(info.ID), 0x40000000|nr("read")); got != enosy {
		t.Errorf("x32 read = %#x, want ENOSYS", got)
	}
}

func TestCustomProfile(t *testing.T) {
	profile := `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}`
	prog, err := Compile([]byte(profile), DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := arch.GetInfo("")
	if got := run(t, prog, uint32(info.ID), info.SyscallNames["mkdirat"]); got != unix.SECCOMP_RET_ERRNO|13 {
		t.Errorf("mkdirat = %#x, want ERRNO(EACCES)", got)
	}
	if got := run(t, prog, uint32(info.ID), info.SyscallNames["read"]); got != allow {
		t.Errorf("read = %#x, want ALLOW (the default)", got)
	}
	for _, bad := range []string{`{`, `{"defaultAction": "SCMP_ACT_NOPE", "syscalls": []}`, `{}`} {
		if _, err := Compile([]byte(bad), nil); err == nil {
			t.Errorf("profile %s compiled", bad)
		}
	}
}

// TestFilterInKernel loads the default filter in a child process (no root
// needed: with no_new_privs any process may) and makes the calls for real.
func TestFilterInKernel(t *testing.T) {
	if os.Getenv("PRIVILEGES_TEST_CHILD") == "1" {
		runtime.LockOSThread()
		c := &Config{NoNewPrivileges: true}
		var err error
		if c.Seccomp, err = Compile(nil, DefaultCapabilities); err != nil {
			t.Fatal(err)
		}
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			t.Fatal(err)
		}
		if err := LoadSeccomp(c.Seccomp); err != nil {
			t.Fatal(err)
		}
		var out []string
		out = append(out, "unshare="+errName(unix.Unshare(unix.CLONE_NEWUTS)))
		_, _, e0 := unix.Syscall(unix.SYS_SOCKET, 56<<32|unix.AF_VSOCK, unix.SOCK_STREAM, 0)
		out = append(out, "socket(56<<32|AF_VSOCK)="+errName(errnoErr(e0)))
		_, _, e := unix.Syscall(unix.SYS_KEYCTL, 0, 0, 0)
		out = append(out, "keyctl="+errName(errnoErr(e)))
		_, err = os.Getwd()
		out = append(out, "getcwd="+errName(err))
		os.Stdout.WriteString(strings.Join(out, " ") + "\n")
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFilterInKernel$")
	cmd.Env = append(os.Environ(), "PRIVILEGES_TEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if want := "unshare=EPERM socket(56<<32|AF_VSOCK)=EPERM keyctl=EPERM getcwd=ok"; !strings.Contains(string(out), want) {
		t.Fatalf("child said %q, want %q", out, want)
	}
}

func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func errName(err error) string {
	if err == nil {
		return "ok"
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return unix.ErrnoName(e)
	}
	return err.Error()
}

func BenchmarkCompileDefault(b *testing.B) {
	for b.Loop() {
		if _, err := Compile(nil, DefaultCapabilities); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEveryCallNumber checks the search against the profile itself for
// every call number the architecture has: a call the resolved profile
// allows (or refuses with an errno) without conditions gets that answer,
// any other call without rules the default, EPERM.
func TestEveryCallNumber(t *testing.T) {
	info, err := arch.GetInfo("")
	if err != nil {
		t.Fatal(err)
	}
	for _, caps := range [][]string{DefaultCapabilities, AllCapabilities(), nil} {
		prog, err := Compile(nil, caps)
		if err != nil {
			t.Fatal(err)
		}
		spec := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps}}}
		p, err := seccomp.GetDefaultProfile(spec)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]uint32{}
		ruled := map[string]bool{}
		for _, r := range p.Syscalls {
			a, err := action(r.Action, r.ErrnoRet)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range r.Names {
				if len(r.Args) > 0 {
					ruled[n] = true
				} else if _, ok := want[n]; !ok {
					want[n] = uint32(a)
				}
			}
		}
		for nr := 0; nr < 1100; nr++ {
			name, known := info.SyscallNumbers[nr]
			if known && ruled[name] {
				if _, ok := want[name]; !ok {
					continue // only argument rules: TestDefaultProfile covers them
				}
			}
			exp, ok := want[name]
			if !known || !ok {
				exp = eperm
			}
			if got := run(t, prog, uint32(info.ID), nr); got != exp {
				t.Errorf("%d caps: call %d (%s) = %#x, want %#x", len(caps), nr, name, got, exp)
			}
		}
	}
}
