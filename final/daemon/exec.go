package daemon

// docker exec through the API: create an exec (201 {"Id"}), start it on a
// hijacked connection (or detached), resize its pty, inspect it for its
// exit code. Execs live in the daemon's memory, as in dockerd: they are
// gone when the daemon restarts.

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"minidocker/final/engine"
	"minidocker/final/errdefs"
)

// execRequest is POST /containers/{id}/exec's body.
type execRequest struct {
	AttachStdin, AttachStdout, AttachStderr bool
	Tty                                     bool
	Env, Cmd                                []string
	User, WorkingDir                        string
	Privileged                              bool
	ConsoleSize                             *[2]uint // [rows, cols]
	DetachKeys                              string   // with Tty: Docker's format; "" for Ctrl-P Ctrl-Q
}

// execRecord is one exec, from its create to its exit.
type execRecord struct {
	id, container string
	req           execRequest

	mu       sync.Mutex
	started  bool
	running  bool
	exitCode int
	session  engine.Session
	// firstSize takes a resize that comes before the command runs: a
	// client older than API 1.42 sends no ConsoleSize, only a resize
	// right after the start.
	firstSize chan engine.Size
}

// firstSizeWait is how long a -t exec without a size waits for the
// client's first resize before its command starts on a 0x0 pty.
const firstSizeWait = 500 * time.Millisecond

func (s *Server) containerExecCreate(w http.ResponseWriter, r *http.Request) error {
	in, err := s.e.InspectContainer(r.PathValue("id"))
	if err != nil {
		return err
	}
	var req execRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if len(req.Cmd) == 0 {
		return errdefs.InvalidParameter(errors.New("No exec command specified"))
	}
	if req.Privileged {
		return errdefs.InvalidParameter(errors.New("exec --privileged is not supported: the exec has the container's own privileges"))
	}
	if !in.State.Running {
		return errdefs.Conflict(fmt.Errorf("container %s is not running", in.ID))
	}
	if _, err := execDetachKeys(req); err != nil {
		return err
	}
	b := make([]byte, 32)
	rand.Read(b)
	x := &execRecord{id: hex.EncodeToString(b), container: in.ID, req: req}
	s.mu.Lock()
	s.execs[x.id] = x
	s.mu.Unlock()
	return writeJSON(w, http.StatusCreated, map[string]string{"Id": x.id})
}

func (s *Server) exec(id string) (*execRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.execs[id]
	if x == nil {
		return nil, errdefs.NotFound(fmt.Errorf("No such exec instance: %s", id))
	}
	return x, nil
}

// execStart runs the exec: detached (200 at once), or on the hijacked
// connection, framed as attach frames it (raw with a pty); the exit code
// is recorded before the connection closes, since the client asks for it
// (GET /exec/{id}/json) as soon as its stream ends.
func (s *Server) execStart(w http.ResponseWriter, r *http.Request) error {
	x, err := s.exec(r.PathValue("id"))
	if err != nil {
		return err
	}
	var body struct {
		Detach, Tty bool
		ConsoleSize *[2]uint
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	x.mu.Lock()
	if x.started {
		x.mu.Unlock()
		return errdefs.Conflict(fmt.Errorf("Error: Exec command %s has already run", x.id))
	}
	x.started = true
	x.mu.Unlock()
	o := engine.ExecOptions{Args: x.req.Cmd, Env: x.req.Env, User: x.req.User, Dir: x.req.WorkingDir, Tty: x.req.Tty}
	size := body.ConsoleSize
	if size == nil {
		size = x.req.ConsoleSize
	}
	if o.Tty && size != nil && size[0] > 0 && size[1] > 0 {
		o.Size = &engine.Size{Rows: uint16(size[0]), Cols: uint16(size[1])}
	}
	if o.Tty && o.Size == nil && !body.Detach {
		x.mu.Lock()
		x.firstSize = make(chan engine.Size, 1)
		x.mu.Unlock()
	}
	if body.Detach {
		sess, err := s.e.Exec(x.container, o)
		if err != nil {
			return execErr(err)
		}
		s.running(x, sess)
		go s.finished(x, sess)
		w.WriteHeader(http.StatusOK)
		return nil
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return fmt.Errorf("exec: hijack: %w", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Time{})
	ctype := multiplexed
	if o.Tty {
		ctype = raw
	}
	if r.Header.Get("Upgrade") != "" {
		fmt.Fprintf(brw, "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", ctype)
	} else {
		fmt.Fprintf(brw, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n\r\n", ctype)
	}
	if err := brw.Flush(); err != nil {
		return nil
	}
	var detach *engine.DetachReader
	if x.req.AttachStdin {
		o.Stdin = connReader{brw.Reader}
		if keys, _ := execDetachKeys(x.req); keys != nil {
			detach = engine.NewDetachReader(o.Stdin, keys)
			o.Stdin = detach
		}
	}
	if o.Tty {
		if x.req.AttachStdout || x.req.AttachStderr {
			o.Stdout = conn
			if detach != nil {
				o.Stdout = afterDetach{conn, detach.Detached()}
			}
		}
	} else {
		f := &frames{w: conn}
		if x.req.AttachStdout {
			o.Stdout = f.stream(1)
		}
		if x.req.AttachStderr {
			o.Stderr = f.stream(2)
		}
	}
	if x.firstSize != nil {
		select {
		case sz := <-x.firstSize:
			o.Size = &sz
		case <-time.After(firstSizeWait):
		}
	}
	sess, err := s.e.Exec(x.container, o)
	if err != nil {
		// After the 101 the error goes on the stream, as dockerd writes it.
		code := 126
		if se, ok := errors.AsType[*engine.StartError](err); ok {
			code = se.Code
		}
		x.mu.Lock()
		x.exitCode = code
		x.mu.Unlock()
		msg := fmt.Sprintf("%v\r\n", err)
		if o.Tty {
			io.WriteString(conn, msg)
		} else {
			(&frames{w: conn}).stream(2).Write([]byte(msg))
		}
		closeWrite(conn)
		return nil
	}
	s.running(x, sess)
	if detach != nil {
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.finished(x, sess)
		}()
		select {
		case <-done:
		case <-detach.Detached():
			return nil // the client detached: the command goes on, the connection closes
		}
	} else {
		s.finished(x, sess)
	}
	closeWrite(conn)
	return nil
}

// execDetachKeys are an exec's detach keys, nil without a pty or stdin.
func execDetachKeys(req execRequest) ([]byte, error) {
	if !req.Tty || !req.AttachStdin {
		return nil, nil
	}
	spec := req.DetachKeys
	if spec == "" {
		spec = engine.DefaultDetachKeys
	}
	keys, err := engine.ParseDetachKeys(spec)
	if err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	return keys, nil
}

// afterDetach is a detachable client's output: once it detached, what the
// command still writes is thrown away (the command must not block on it).
type afterDetach struct {
	w        io.Writer
	detached <-chan struct{}
}

func (a afterDetach) Write(p []byte) (int, error) {
	select {
	case <-a.detached:
		return len(p), nil
	default:
	}
	n, err := a.w.Write(p)
	if err != nil {
		select {
		case <-a.detached:
			return len(p), nil
		default:
		}
	}
	return n, err
}

func closeWrite(c any) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

func execErr(err error) error {
	if se, ok := errors.AsType[*engine.StartError](err); ok {
		return errdefs.System(se)
	}
	return err
}

func (s *Server) running(x *execRecord, sess engine.Session) {
	x.mu.Lock()
	x.running, x.session = true, sess
	x.mu.Unlock()
}

// finished waits for the exec and records its exit code.
func (s *Server) finished(x *execRecord, sess engine.Session) {
	code, err := sess.Wait()
	if err != nil {
		s.log.Printf("exec %s: %v", x.id[:12], err)
		code = 126
	}
	x.mu.Lock()
	x.running, x.exitCode = false, code
	x.mu.Unlock()
}

func (s *Server) execResize(w http.ResponseWriter, r *http.Request) error {
	x, err := s.exec(r.PathValue("id"))
	if err != nil {
		return err
	}
	size, err := sizeValue(r)
	if err != nil {
		return err
	}
	x.mu.Lock()
	sess, first := x.session, x.firstSize
	x.mu.Unlock()
	if sess == nil && first != nil {
		select {
		case first <- size:
		default: // one is enough: the start takes it
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
	if sess == nil {
		return errdefs.Conflict(fmt.Errorf("exec %s is not running", x.id))
	}
	if err := sess.Resize(size); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) execInspect(w http.ResponseWriter, r *http.Request) error {
	x, err := s.exec(r.PathValue("id"))
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	args := []string{}
	if len(x.req.Cmd) > 1 {
		args = x.req.Cmd[1:]
	}
	keys, _ := execDetachKeys(x.req) // bytes, as dockerd's: base64 in the JSON
	return writeJSON(w, http.StatusOK, map[string]any{
		"ID": x.id, "ContainerID": x.container, "Running": x.running, "ExitCode": x.exitCode,
		"OpenStdin": x.req.AttachStdin, "OpenStdout": x.req.AttachStdout, "OpenStderr": x.req.AttachStderr,
		"CanRemove": false, "DetachKeys": keys, "Pid": 0,
		"ProcessConfig": map[string]any{"tty": x.req.Tty, "entrypoint": x.req.Cmd[0], "arguments": args,
			"privileged": false, "user": x.req.User},
	})
}
