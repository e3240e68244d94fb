package engine

// The control channel: each monitor listens on a unix socket in its
// container's directory (control.sock, mode 0600) for as long as the
// container runs. See the package comment, "The control socket", for the
// protocol; this file has both ends of it.

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"minidocker/final/errdefs"
	"minidocker/final/state"
)

// ControlSocket is the name of a container's control socket in its
// directory.
const ControlSocket = "control.sock"

// Size is a terminal's size.
type Size struct {
	Rows uint16 `json:"rows"`
	Cols uint16 `json:"cols"`
}

// hello is the first line a client sends: what it wants of this connection.
type hello struct {
	Attach *attachRequest `json:"attach,omitempty"`
	Resize *Size          `json:"resize,omitempty"`
	Wait   bool           `json:"wait,omitempty"`
}

type attachRequest struct {
	Stdin     bool `json:"stdin,omitempty"`
	Stdout    bool `json:"stdout,omitempty"`
	Stderr    bool `json:"stderr,omitempty"`
	StdinOnce bool `json:"stdinOnce,omitempty"` // our stdin's end closes the container's
}

// reply is the monitor's answer to a hello, one JSON line; a wait gets a
// second one with ExitCode at the exit.
type reply struct {
	Tty      bool   `json:"tty,omitempty"`
	Error    string `json:"error,omitempty"`
	ExitCode *int   `json:"exitCode,omitempty"`
}

// Stream ids of the 8-byte frame header (Docker's stdcopy).
const (
	streamStdout = 1
	streamStderr = 2
)

// A unix socket's address holds at most 107 bytes of path (sun_path), and
// <root>/containers/<64 hex>/control.sock is longer under most data roots.
// Both ends go through the directory instead: open it, and bind or connect
// to /proc/self/fd/<fd>/control.sock, which the kernel resolves through the
// open directory.
func viaDir(dir string, do func(addr string) error) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	return do(fmt.Sprintf("/proc/self/fd/%d/%s", fd, ControlSocket))
}

// ---- the monitor's end ----

// control is the monitor's side of the socket.
type control struct {
	ln   *net.UnixListener
	path string
	tty  bool

	mu       sync.Mutex
	clients  map[*attached]bool
	waiters  []*net.UnixConn
	finished []*net.UnixConn // attach connections whose output ended
	ended    bool            // the container's output ended: no more attaches
	first    chan *Size      // the first attach, with its size (buffered)
	gotFirst bool            // a client attached
	stdin    io.WriteCloser  // the container's stdin (a pipe, or the pty): nil without -i
	pty      *os.File        // the pty master with -t
	stdinSet chan struct{}   // closed once both are known (the pty comes after the start)
	closeIn  sync.Once
	closeLn  sync.Once
}

// attached is one client's attach connection.
type attached struct {
	conn           *net.UnixConn
	stdout, stderr bool
	mu             sync.Mutex // one frame at a time
	dead           bool
}

// listenControl makes the container's control socket in dir.
func listenControl(dir string, tty bool) (*control, error) {
	c := &control{path: filepath.Join(dir, ControlSocket), tty: tty, clients: map[*attached]bool{},
		first: make(chan *Size, 1), stdinSet: make(chan struct{})}
	os.Remove(c.path) // one a SIGKILLed monitor left
	err := viaDir(dir, func(addr string) error {
		// 0600 from the start: bind creates the file with the umask.
		old := syscall.Umask(0o177)
		defer syscall.Umask(old)
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: addr, Net: "unix"})
		c.ln = ln
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	c.ln.SetUnlinkOnClose(false) // its /proc/self/fd path is gone by then: we remove c.path
	go c.serve()
	return c, nil
}

func (c *control) serve() {
	for {
		conn, err := c.ln.AcceptUnix()
		if err != nil {
			return // closed
		}
		go c.handle(conn)
	}
}

func (c *control) answer(conn *net.UnixConn, r reply) error {
	line, _ := json.Marshal(r)
	_, err := conn.Write(append(line, '\n'))
	return err
}

func (c *control) handle(conn *net.UnixConn) {
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	line, err := br.ReadBytes('\n')
	conn.SetReadDeadline(time.Time{})
	var h hello
	if err == nil {
		err = json.Unmarshal(line, &h)
	}
	if err != nil {
		c.answer(conn, reply{Error: fmt.Sprintf("bad request: %v", err)})
		conn.Close()
		return
	}
	if h.Attach != nil && h.Wait {
		c.answer(conn, reply{Error: "attach and wait go on connections of their own"})
		conn.Close()
		return
	}
	if h.Resize != nil {
		if err := c.resize(*h.Resize, h.Attach != nil); err != nil {
			c.answer(conn, reply{Error: err.Error()})
			conn.Close()
			return
		}
	}
	switch {
	case h.Attach != nil:
		c.attach(conn, br, h)
	case h.Wait:
		c.mu.Lock()
		c.waiters = append(c.waiters, conn)
		c.mu.Unlock()
		if c.answer(conn, reply{Tty: c.tty}) != nil {
			conn.Close()
		}
	default:
		c.answer(conn, reply{Tty: c.tty})
		conn.Close()
	}
}

// resize sets the pty's size; before the container starts it is the size
// the first attach asks for (see waitFirst).
func (c *control) resize(s Size, attaching bool) error {
	if !c.tty {
		if attaching {
			return nil // a size for a container without a pty: nothing to do
		}
		return errors.New("the container has no pty (run without -t)")
	}
	c.mu.Lock()
	pending := !c.gotFirst && attaching
	c.mu.Unlock()
	if pending {
		return nil // the first attach carries the size to the start
	}
	select {
	case <-c.stdinSet:
	default:
		return errors.New("the container's pty is not there yet")
	}
	if c.pty == nil {
		return errors.New("the container has no pty")
	}
	return unix.IoctlSetWinsize(int(c.pty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: s.Rows, Col: s.Cols})
}

func (c *control) attach(conn *net.UnixConn, br *bufio.Reader, h hello) {
	a := &attached{conn: conn, stdout: h.Attach.Stdout, stderr: h.Attach.Stderr}
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		c.answer(conn, reply{Error: "You cannot attach to a stopped container, start it first"})
		conn.Close()
		return
	}
	// The reply goes out under the lock, before any output can.
	if c.answer(conn, reply{Tty: c.tty}) != nil {
		c.mu.Unlock()
		conn.Close()
		return
	}
	c.clients[a] = true
	if !c.gotFirst {
		c.gotFirst = true
		c.first <- h.Resize
	}
	c.mu.Unlock()
	// What the client sends is the container's stdin; its CloseWrite is
	// the end of it.
	go func() {
		if !h.Attach.Stdin {
			io.Copy(io.Discard, br)
			return
		}
		<-c.stdinSet
		if c.stdin == nil {
			io.Copy(io.Discard, br)
			return
		}
		io.Copy(c.stdin, br)
		if h.Attach.StdinOnce && !c.tty {
			c.closeIn.Do(func() { c.stdin.Close() })
		}
	}()
}

// setStdin is where the clients' input goes: the container's stdin pipe,
// or the pty master; nil when the container has no stdin (no -i). pty is
// the master to resize (nil without -t).
func (c *control) setStdin(w *os.File, pty *os.File) {
	if w != nil {
		c.stdin = w
	}
	c.pty = pty
	close(c.stdinSet)
}

// waitFirst waits up to timeout for the first client to attach and returns
// the size it asked for (nil: none, or nobody came).
func (c *control) waitFirst(timeout time.Duration) *Size {
	select {
	case s := <-c.first:
		return s
	case <-time.After(timeout):
		return nil
	}
}

// writer is stream's output to the attached clients: framed without a
// pty, raw with one. A client that fails is dropped; the others go on.
func (c *control) writer(stream int) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		c.mu.Lock()
		list := make([]*attached, 0, len(c.clients))
		for a := range c.clients {
			// With a pty there is one stream: it goes to whoever asked
			// for stdout or stderr.
			if (a.stdout && (stream == streamStdout || c.tty)) || (a.stderr && (stream == streamStderr || c.tty)) {
				list = append(list, a)
			}
		}
		c.mu.Unlock()
		for _, a := range list {
			if err := a.write(stream, p, c.tty); err != nil {
				c.drop(a)
			}
		}
		return len(p), nil
	})
}

func (a *attached) write(stream int, p []byte, raw bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.dead {
		return net.ErrClosed
	}
	if raw {
		_, err := a.conn.Write(p)
		return err
	}
	// Header and payload in one write: the frames of stdout and stderr
	// never interleave.
	frame := make([]byte, 8+len(p))
	frame[0] = byte(stream)
	binary.BigEndian.PutUint32(frame[4:8], uint32(len(p)))
	copy(frame[8:], p)
	_, err := a.conn.Write(frame)
	return err
}

func (c *control) drop(a *attached) {
	c.mu.Lock()
	delete(c.clients, a)
	c.mu.Unlock()
	a.mu.Lock()
	a.dead = true
	a.conn.Close()
	a.mu.Unlock()
}

// endStreams half-closes every attach connection once the container's
// output has all been sent: the clients read EOF. (A full close with input
// not yet read would make the client's read fail with ECONNRESET instead.)
// exit closes them.
func (c *control) endStreams() {
	c.mu.Lock()
	c.ended = true
	list := c.clients
	c.clients = map[*attached]bool{}
	c.mu.Unlock()
	for a := range list {
		a.mu.Lock()
		a.dead = true
		a.conn.CloseWrite()
		a.mu.Unlock()
		c.mu.Lock()
		c.finished = append(c.finished, a.conn)
		c.mu.Unlock()
	}
}

// exit tells the waiting clients the exit code (nil: the container never
// ran) and closes the socket for good.
func (c *control) exit(code *int) {
	c.close()
	c.mu.Lock()
	waiters := c.waiters
	c.waiters = nil
	for _, conn := range c.finished {
		conn.Close()
	}
	c.finished = nil
	c.mu.Unlock()
	for _, w := range waiters {
		if code != nil {
			c.answer(w, reply{ExitCode: code})
		}
		w.Close()
	}
}

// close stops listening and removes the socket file; clients still
// connected keep their connections. Only once: after the exit is recorded
// and the lock released, another monitor may listen on that path.
func (c *control) close() {
	c.closeLn.Do(func() {
		c.ln.Close()
		os.Remove(c.path)
	})
	c.mu.Lock()
	ended := c.ended
	c.mu.Unlock()
	if !ended {
		c.endStreams()
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// ---- the client's end: what the engine's methods use ----

// AttachOptions are which of the container's streams a client wants. With
// a pty (the container runs with -t) everything comes on Stdout.
type AttachOptions struct {
	Stdin          io.Reader // nil: send nothing
	Stdout, Stderr io.Writer // nil: not that stream
	// StdinOnce: the end of Stdin closes the container's stdin (docker
	// run -i's StdinOnce); otherwise it only ends this client's input.
	StdinOnce bool
	// Size is the pty's size; when the attach comes before the start
	// (Start with options), the command starts with it.
	Size *Size
	// DetachKeys (ParseDetachKeys), with a pty: reading them in Stdin
	// detaches (Close), leaving the container running, and Wait returns
	// ErrDetached. nil: none.
	DetachKeys []byte
}

// Attachment is a client attached to a container's streams.
type Attachment struct {
	Tty  bool // the container has a pty: the output is raw
	e    *Engine
	id   string
	conn *net.UnixConn
	wait *net.UnixConn
	done chan struct{}
	err  error
	// detached: the detach keys were read (Wait returns ErrDetached).
	detached atomic.Bool
}

// dialControl connects to the control socket of container id and sends h;
// it returns the connection after the monitor's answer.
func (e *Engine) dialControl(id string, h hello) (*net.UnixConn, *bufio.Reader, reply, error) {
	var conn *net.UnixConn
	err := viaDir(e.containerDir(id), func(addr string) error {
		var err error
		conn, err = net.DialUnix("unix", nil, &net.UnixAddr{Name: addr, Net: "unix"})
		return err
	})
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			// No monitor listens: the container stopped, or its monitor
			// was killed and it runs on, with nobody serving its streams.
			if c, gerr := e.containers.Get(id); gerr == nil && alive(c) {
				err = errdefs.Unavailable(fmt.Errorf("container %s: its monitor is gone: only its log has its output", state.ShortID(id)))
			} else {
				err = errdefs.Conflict(&NotRunningError{ID: id})
			}
		}
		return nil, nil, reply{}, err
	}
	line, _ := json.Marshal(h)
	var r reply
	br := bufio.NewReader(conn)
	_, err = conn.Write(append(line, '\n'))
	if err == nil {
		var answer []byte
		if answer, err = br.ReadBytes('\n'); err == nil {
			err = json.Unmarshal(answer, &r)
		}
	}
	if err == nil && r.Error != "" {
		// The monitor refuses what the request asks: a resize without a
		// pty, an attach after the output ended.
		conn.Close()
		return nil, nil, r, errdefs.Conflict(errors.New(r.Error))
	}
	if err != nil {
		conn.Close()
		return nil, nil, r, fmt.Errorf("container %s: control socket: %w", state.ShortID(id), err)
	}
	return conn, br, r, nil
}

// Attach attaches to the streams of the running container ref through its
// monitor's control socket: output the container writes from now on goes
// to o.Stdout and o.Stderr (it all goes to the log too, attached or not),
// and o.Stdin to the container's stdin when it runs with -i. Wait on the
// Attachment for the end of the output and the exit code; Close detaches.
func (e *Engine) Attach(ctx context.Context, ref string, o AttachOptions) (*Attachment, error) {
	c, err := e.container(ref)
	if err != nil {
		return nil, err
	}
	if c, err = e.refresh(c); err != nil {
		return nil, containerErr(ref, err)
	}
	if c.State.Restarting {
		return nil, errdefs.Conflict(errors.New("You cannot attach to a restarting container, wait until it is running"))
	}
	if !c.State.Running {
		return nil, errdefs.Conflict(errors.New("You cannot attach to a stopped container, start it first"))
	}
	return e.attach(c.ID, o)
}

func (e *Engine) attach(id string, o AttachOptions) (*Attachment, error) {
	// The wait first: it is then registered before anything could exit.
	wait, _, _, err := e.dialControl(id, hello{Wait: true})
	if err != nil {
		return nil, err
	}
	req := &attachRequest{Stdin: o.Stdin != nil, Stdout: o.Stdout != nil, Stderr: o.Stderr != nil, StdinOnce: o.StdinOnce}
	conn, br, r, err := e.dialControl(id, hello{Attach: req, Resize: o.Size})
	if err != nil {
		wait.Close()
		return nil, err
	}
	a := &Attachment{Tty: r.Tty, e: e, id: id, conn: conn, wait: wait, done: make(chan struct{})}
	go func() {
		if o.Stdin != nil && a.Tty && len(o.DetachKeys) > 0 {
			d := NewDetachReader(o.Stdin, o.DetachKeys)
			if _, err := io.Copy(conn, d); errors.Is(err, ErrDetached) {
				a.detached.Store(true)
				a.Close() // the container goes on
				return
			}
		} else if o.Stdin != nil {
			io.Copy(conn, o.Stdin)
		}
		conn.CloseWrite() // the end of our input
	}()
	go func() {
		defer close(a.done)
		if a.Tty {
			w := o.Stdout
			if w == nil {
				w = io.Discard
			}
			_, a.err = io.Copy(w, br)
		} else {
			a.err = demux(br, o.Stdout, o.Stderr)
		}
		if errors.Is(a.err, net.ErrClosed) || errors.Is(a.err, syscall.ECONNRESET) {
			a.err = nil // Close: we detached; or the monitor closed with our input unread
		}
	}()
	return a, nil
}

// demux reads Docker's 8-byte frames from r until EOF and writes each
// payload to stdout (stream 1) or stderr (stream 2).
func demux(r io.Reader, stdout, stderr io.Writer) error {
	var header [8]byte
	for {
		if _, err := io.ReadFull(r, header[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		var w io.Writer
		switch header[0] {
		case streamStdout:
			w = stdout
		case streamStderr:
			w = stderr
		default:
			return fmt.Errorf("attach: unknown stream %d", header[0])
		}
		if w == nil {
			w = io.Discard
		}
		if _, err := io.CopyN(w, r, int64(binary.BigEndian.Uint32(header[4:]))); err != nil {
			return err
		}
	}
}

// Wait waits until the container's output has all been copied and returns
// its exit code, as its monitor reports it once the exit is recorded (and
// a --rm container removed).
func (a *Attachment) Wait() (int, error) {
	<-a.done
	if a.detached.Load() {
		a.wait.Close()
		return 0, ErrDetached
	}
	defer a.wait.Close()
	br := bufio.NewReader(a.wait)
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			if a.err != nil {
				return 0, a.err
			}
			return 0, fmt.Errorf("container %s: the monitor went away before it reported the exit", state.ShortID(a.id))
		}
		var r reply
		if err := json.Unmarshal(line, &r); err == nil && r.ExitCode != nil {
			return *r.ExitCode, a.err
		}
	}
}

// Done is closed once the container's output has all been copied.
func (a *Attachment) Done() <-chan struct{} { return a.done }

// Resize resizes the container's pty.
func (a *Attachment) Resize(s Size) error { return a.e.resize(a.id, s) }

// Close detaches: the container goes on.
func (a *Attachment) Close() error {
	a.wait.Close()
	return a.conn.Close()
}

// Resize sets the size of the pty of the running container ref (docker
// run -t's window size, and its changes).
func (e *Engine) Resize(ref string, s Size) error {
	c, err := e.container(ref)
	if err != nil {
		return err
	}
	return e.resize(c.ID, s)
}

func (e *Engine) resize(id string, s Size) error {
	conn, _, _, err := e.dialControl(id, hello{Resize: &s})
	if err != nil {
		return err
	}
	return conn.Close()
}
