package rootfs

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// dialConsole connects to the console socket while the host's paths are
// still visible (before pivot_root).
func dialConsole(path string) (*net.UnixConn, error) {
	if path == "" {
		return nil, nil
	}
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	return c, nil
}

// consoleConn is the console socket's connection: the descriptor the
// init's parent dialed and passed on (cfg.ConsoleFD), or else a dial of
// cfg.ConsoleSocket.
func consoleConn(cfg *Config) (*net.UnixConn, error) {
	if cfg.ConsoleFD == 0 {
		return dialConsole(cfg.ConsoleSocket)
	}
	f := os.NewFile(uintptr(cfg.ConsoleFD), "console-socket")
	defer f.Close() // FileConn holds a duplicate
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("console socket: fd %d: %w", cfg.ConsoleFD, err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("console socket: fd %d is not a unix socket", cfg.ConsoleFD)
	}
	return uc, nil
}

// setupConsole makes the container's terminal, of rows x cols when both are
// set, sends its master on conn, and makes the slave our stdin, stdout,
// stderr and controlling terminal.
func setupConsole(conn *net.UnixConn, rows, cols uint16) error {
	slave, err := SendConsole(conn, rows, cols)
	if err != nil {
		return err
	}
	defer slave.Close()
	// We lead a session of our own (Setsid): the slave becomes its
	// controlling terminal, so Ctrl-C typed into it is SIGINT here.
	if err := unix.IoctlSetInt(int(slave.Fd()), unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("console: TIOCSCTTY: %w", err)
	}
	for fd := range 3 {
		if err := unix.Dup3(int(slave.Fd()), fd, 0); err != nil {
			return fmt.Errorf("console: dup onto fd %d: %w", fd, err)
		}
	}
	// /dev/console is the terminal too, as runc makes it.
	if f, err := os.OpenFile("/dev/console", os.O_CREATE|os.O_RDONLY, 0o600); err == nil {
		f.Close()
		_ = unix.Mount(slave.Name(), "/dev/console", "", unix.MS_BIND, "")
	}
	return nil
}

// SendConsole makes a pseudo-terminal from /dev/ptmx as this thread sees
// it (the container's, once inside), of rows x cols when both are set,
// sends the master on conn (and closes conn), and returns the slave. An
// OCI runtime's exec --console-socket uses it from inside the container's
// namespaces; the init's own terminal (setupConsole) too.
func SendConsole(conn *net.UnixConn, rows, cols uint16) (*os.File, error) {
	defer conn.Close()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil { // unlockpt
		return nil, fmt.Errorf("console: unlockpt: %w", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN) // ptsname
	if err != nil {
		return nil, fmt.Errorf("console: ptsname: %w", err)
	}
	if rows > 0 && cols > 0 {
		// Before the command runs: it may ask for its size first thing.
		ws := &unix.Winsize{Row: rows, Col: cols}
		if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws); err != nil {
			return nil, fmt.Errorf("console: set size: %w", err)
		}
	}
	slavePath := fmt.Sprintf("/dev/pts/%d", n)
	slave, err := os.OpenFile(slavePath, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	// The master goes to whoever listens on the socket with SCM_RIGHTS: a
	// file descriptor passed over a unix socket.
	if _, _, err := conn.WriteMsgUnix([]byte(slavePath), unix.UnixRights(int(master.Fd())), nil); err != nil {
		slave.Close()
		return nil, fmt.Errorf("console: send the master: %w", err)
	}
	return slave, nil
}

// DialConsole connects to a console socket (a path on the host): call it
// before entering the container's mount namespace.
func DialConsole(path string) (*net.UnixConn, error) { return dialConsole(path) }

// ReceiveConsole accepts the init's connection on ln and returns the
// pty master it sends.
func ReceiveConsole(ln *net.UnixListener) (*os.File, error) {
	conn, err := ln.AcceptUnix()
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	defer conn.Close()
	buf, oob := make([]byte, 64), make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("console: no file descriptor received (%v)", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("console: no file descriptor received (%v)", err)
	}
	return os.NewFile(uintptr(fds[0]), string(buf[:n])), nil
}
