package ociruntime

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/term"

	"minidocker/step03-rootfs-layers/rootfs"
)

// foregroundTTY is run's terminal when nobody gave a console socket: as
// runc run does, we are the one who holds the master. We listen on a socket
// of our own, the init sends the master there (step 3's console socket),
// and we copy between it and our own stdin and stdout, in raw mode when
// stdin is a terminal, passing our window size on.
type foregroundTTY struct {
	dir     string
	ln      *net.UnixListener
	master  chan *os.File
	err     chan error
	copied  chan struct{}
	restore func()
}

func newForegroundTTY() (*foregroundTTY, string, error) {
	dir, err := os.MkdirTemp("", "minidocker-runtime-tty-")
	if err != nil {
		return nil, "", err
	}
	sock := filepath.Join(dir, "console.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", fmt.Errorf("console socket: %w", err)
	}
	t := &foregroundTTY{dir: dir, ln: ln, master: make(chan *os.File, 1), err: make(chan error, 1), copied: make(chan struct{})}
	go func() {
		m, err := rootfs.ReceiveConsole(ln)
		if err != nil {
			t.err <- err
			return
		}
		t.master <- m
	}()
	return t, sock, nil
}

// attach waits for the master (the init sends it before create returns)
// and starts copying.
func (t *foregroundTTY) attach() error {
	var m *os.File
	select {
	case m = <-t.master:
	case err := <-t.err:
		return err
	}
	in := int(os.Stdin.Fd())
	if term.IsTerminal(in) {
		_ = pty.InheritSize(os.Stdin, m)
		if old, err := term.MakeRaw(in); err == nil {
			t.restore = func() { _ = term.Restore(in, old) }
		}
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		go func() {
			for range winch {
				_ = pty.InheritSize(os.Stdin, m)
			}
		}()
	}
	go func() { _, _ = io.Copy(m, os.Stdin) }()
	go func() {
		defer close(t.copied)
		_, _ = io.Copy(os.Stdout, m) // EIO once the container's last holder of the terminal is gone
		m.Close()
	}()
	return nil
}

// close waits for the output to be copied out, puts our terminal back and
// removes the socket.
func (t *foregroundTTY) close(attached bool) {
	if attached {
		<-t.copied
	}
	if t.restore != nil {
		t.restore()
	}
	t.ln.Close()
	os.RemoveAll(t.dir)
}
