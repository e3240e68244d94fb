package privileges

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"minidocker/internal/atomicfile"
)

// CompileCached is Compile with its result kept in dir, one file per
// (profile, capabilities, kernel, binary): compiling Docker's profile takes
// about a millisecond, reading the file back a few microseconds. dir should
// be readable by root only: the filter is what confines containers.
func CompileCached(dir string, profile []byte, caps []string) ([]byte, error) {
	key := cacheKey(profile, caps)
	file := filepath.Join(dir, key+".bpf")
	if b, err := os.ReadFile(file); err == nil && len(b) > 0 && len(b)%8 == 0 {
		return b, nil
	}
	prog, err := Compile(profile, caps)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err == nil {
		_ = atomicfile.Write(file, prog, 0o600) // a cache: failing to write it costs time, not correctness
	}
	return prog, nil
}

// cacheKey names everything a compiled filter depends on: the profile and
// the capabilities (rules depend on them), the kernel's version (rules
// have minimum kernels), the architecture, and this very binary (its
// compiler and its copy of Docker's profile): its inode, size and mtime.
func cacheKey(profile []byte, caps []string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", runtime.GOARCH, strings.Join(caps, ","))
	h.Write([]byte(kernelRelease()))
	if fi, err := os.Stat("/proc/self/exe"); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			fmt.Fprintf(h, "\x00%d:%d:%d:%d", st.Dev, st.Ino, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	if profile == nil {
		h.Write([]byte("\x00default"))
	} else {
		h.Write([]byte("\x00profile\x00"))
		h.Write(profile)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
