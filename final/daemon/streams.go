package daemon

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"minidocker/final/engine"
	"minidocker/final/errdefs"
)

// frames writes Docker's stdcopy frames on w: an 8-byte header [stream,
// 0, 0, 0, length uint32 big-endian] and the payload, in one Write, one
// frame at a time (stdout and stderr share w). flush, when set, runs after
// each frame.
type frames struct {
	mu    sync.Mutex
	w     io.Writer
	flush func()
}

type frameWriter struct {
	f      *frames
	stream byte
}

func (f *frames) stream(id byte) io.Writer { return &frameWriter{f, id} }

func (fw *frameWriter) Write(p []byte) (int, error) {
	buf := make([]byte, 8+len(p))
	buf[0] = fw.stream
	binary.BigEndian.PutUint32(buf[4:], uint32(len(p)))
	copy(buf[8:], p)
	fw.f.mu.Lock()
	defer fw.f.mu.Unlock()
	if _, err := fw.f.w.Write(buf); err != nil {
		return 0, err
	}
	if fw.f.flush != nil {
		fw.f.flush()
	}
	return len(p), nil
}

// flushWriter flushes after each write: a raw stream, followed.
type flushWriter struct {
	w     io.Writer
	flush func()
}

func (fw flushWriter) Write(p []byte) (int, error) {
	n, err := fw.w.Write(p)
	fw.flush()
	return n, err
}

const (
	multiplexed = "application/vnd.docker.multiplexed-stream"
	raw         = "application/vnd.docker.raw-stream"
)

// containerLogs is docker logs: stdcopy frames without a tty, raw bytes
// with one; flushed as it goes for -f.
func (s *Server) containerLogs(w http.ResponseWriter, r *http.Request) error {
	in, err := s.e.InspectContainer(r.PathValue("id"))
	if err != nil {
		return err
	}
	stdout, stderr := boolValue(r, "stdout"), boolValue(r, "stderr")
	if !stdout && !stderr {
		return errdefs.InvalidParameter(errorString("Bad parameters: you must choose at least one stream"))
	}
	rc := http.NewResponseController(w)
	flush := func() { rc.Flush() }
	var out, errw io.Writer = io.Discard, io.Discard
	if in.Config.Tty {
		w.Header().Set("Content-Type", raw)
		fw := flushWriter{w, flush}
		if stdout {
			out = fw
		}
		if stderr {
			errw = fw
		}
	} else {
		w.Header().Set("Content-Type", multiplexed)
		f := &frames{w: w, flush: flush}
		if stdout {
			out = f.stream(1)
		}
		if stderr {
			errw = f.stream(2)
		}
	}
	w.WriteHeader(http.StatusOK)
	flush()
	tail := r.URL.Query().Get("tail")
	o := engine.LogsOptions{Follow: boolValue(r, "follow"), Timestamps: boolValue(r, "timestamps"), Tail: tail}
	if err := s.e.Logs(r.Context(), in.ID, o, out, errw); err != nil {
		s.log.Printf("logs %s: %v", in.ID, err)
	}
	return nil
}

// containerWait answers 200 at once (flushed: docker run sends the wait
// before the start and goes on) and the exit code at the exit.
func (s *Server) containerWait(w http.ResponseWriter, r *http.Request) error {
	in, err := s.e.InspectContainer(r.PathValue("id"))
	if err != nil {
		return err
	}
	cond := r.URL.Query().Get("condition")
	switch cond {
	case "", "not-running", "next-exit", "removed":
	default:
		return errdefs.InvalidParameter(fmt.Errorf("invalid condition: %q", cond))
	}
	var ch chan int
	if !in.State.Running && cond != "" && cond != "not-running" {
		// Before the start: the start hands us the exit.
		ch = make(chan int, 1)
		s.mu.Lock()
		s.waiters[in.ID] = append(s.waiters[in.ID], ch)
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	http.NewResponseController(w).Flush()
	type waitError struct{ Message string }
	answer := func(code int, err error) error {
		var we *waitError
		if err != nil {
			we = &waitError{Message: err.Error()}
		}
		return json.NewEncoder(w).Encode(map[string]any{"StatusCode": code, "Error": we})
	}
	switch {
	case ch != nil:
		select {
		case code, ok := <-ch:
			if !ok {
				return answer(-1, fmt.Errorf("container %s: its exit is not known", in.ID))
			}
			return answer(code, nil)
		case <-r.Context().Done():
			s.mu.Lock()
			list := s.waiters[in.ID]
			for i, c := range list {
				if c == ch {
					s.waiters[in.ID] = append(list[:i:i], list[i+1:]...)
					break
				}
			}
			if len(s.waiters[in.ID]) == 0 {
				delete(s.waiters, in.ID)
			}
			s.mu.Unlock()
			return nil
		}
	case !in.State.Running:
		return answer(in.State.ExitCode, nil)
	}
	// Running: the monitor tells its attached clients the exit (after a
	// --rm container's removal); a client with no streams is enough.
	a, err := s.e.Attach(r.Context(), in.ID, engine.AttachOptions{})
	if err != nil {
		// It ended meanwhile: its record has the code.
		code, werr := s.e.Wait(r.Context(), in.ID)
		return answer(code, werr)
	}
	go func() {
		<-r.Context().Done()
		a.Close()
	}()
	code, err := a.Wait()
	return answer(code, err)
}

// pendingAttach is an attach made before the start: its streams wait for
// the start, which hands them to the engine.
type pendingAttach struct {
	options engine.AttachOptions
	conn    net.Conn
	done    chan struct{}
	once    sync.Once
	// answered is closed once the 101 is on its way: a start that came
	// from another client in between waits for it before any frame.
	answered chan struct{}
}

func (p *pendingAttach) finish() {
	p.once.Do(func() {
		if cw, ok := p.conn.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		p.conn.Close()
		close(p.done)
	})
}

func (p *pendingAttach) fail(err error) {
	fmt.Fprintf(p.conn, "Error: %v\r\n", err)
	p.finish()
}

// connReader reads the hijacked conn through the bufio.Reader the server
// handed over (it may hold the client's first bytes).
type connReader struct{ br *bufio.Reader }

func (c connReader) Read(p []byte) (int, error) { return c.br.Read(p) }

// containerAttach hijacks the connection (101 UPGRADED when the client
// asked to upgrade) and bridges it to the container's streams: before the
// start through the start (pendingAttach), after it through engine.Attach.
func (s *Server) containerAttach(w http.ResponseWriter, r *http.Request) error {
	in, err := s.e.InspectContainer(r.PathValue("id"))
	if err != nil {
		return err
	}
	if !boolValue(r, "stream") && !boolValue(r, "logs") {
		return errdefs.InvalidParameter(errorString("Bad parameters: you must choose at least one stream"))
	}
	// With a pty, the detach keys end the attach (the container goes on):
	// the client's ?detachKeys= or Docker's Ctrl-P Ctrl-Q.
	var keys []byte
	if in.Config.Tty {
		spec := r.URL.Query().Get("detachKeys")
		if spec == "" {
			spec = engine.DefaultDetachKeys
		}
		if keys, err = engine.ParseDetachKeys(spec); err != nil {
			return errdefs.InvalidParameter(err)
		}
	}
	// A container that does not run gets its attach at its next start
	// (docker run, docker start -a), as dockerd does: the docker CLI's
	// attach command refuses a stopped container by itself.
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return fmt.Errorf("attach: hijack: %w", err)
	}
	conn.SetDeadline(time.Time{})
	ctype := multiplexed
	if in.Config.Tty {
		ctype = raw
	}
	// Before the start it is docker run's attach: the end of its stdin is
	// the container's (StdinOnce); a later attach (docker attach) only
	// ends its own input.
	o := engine.AttachOptions{StdinOnce: !in.State.Running && in.Config.OpenStdin, DetachKeys: keys}
	if boolValue(r, "stdin") && in.Config.OpenStdin {
		o.Stdin = connReader{brw.Reader}
	}
	if in.Config.Tty {
		if boolValue(r, "stdout") || boolValue(r, "stderr") {
			o.Stdout = conn
		}
	} else {
		f := &frames{w: conn}
		if boolValue(r, "stdout") {
			o.Stdout = f.stream(1)
		}
		if boolValue(r, "stderr") {
			o.Stderr = f.stream(2)
		}
	}
	p := &pendingAttach{options: o, conn: conn, done: make(chan struct{}), answered: make(chan struct{})}
	if !in.State.Running {
		// Registered before the answer below: the client sends its start
		// as soon as it reads the 101, and the start must find us.
		s.mu.Lock()
		if old := s.pending[in.ID]; old != nil {
			s.mu.Unlock()
			p.fail(errdefs.Conflict(errorString("another client attached before the start")))
			return nil
		}
		s.pending[in.ID] = p
		s.mu.Unlock()
	}
	if r.Header.Get("Upgrade") != "" {
		fmt.Fprintf(brw, "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", ctype)
	} else {
		fmt.Fprintf(brw, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n\r\n", ctype)
	}
	err = brw.Flush()
	close(p.answered)
	if err != nil {
		s.dropPending(in.ID, p)
		p.finish()
		return nil
	}
	if !in.State.Running {
		// The handler returns; the conn is ours until the start's end.
		return nil
	}
	a, err := s.e.Attach(context.Background(), in.ID, o)
	if err != nil {
		p.fail(err)
		return nil
	}
	a.Wait()
	p.finish()
	return nil
}

// dropPending forgets p if it is still id's attach before the start.
func (s *Server) dropPending(id string, p *pendingAttach) {
	s.mu.Lock()
	if s.pending[id] == p {
		delete(s.pending, id)
	}
	s.mu.Unlock()
}
