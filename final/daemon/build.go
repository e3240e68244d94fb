package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"minidocker/final/builder"
	"minidocker/final/engine"
	"minidocker/final/errdefs"
)

// build is docker build with the classic builder: POST /build, the context
// as a tar in the body (what `DOCKER_BUILDKIT=0 docker build` sends), the
// options in the query (t, dockerfile, buildargs, nocache, target, q). The
// answer is the builder's output as {"stream": …} lines, then
// {"aux": {"ID": …}}; a failed step is an errorDetail with the RUN's exit
// code, which the docker CLI exits with.
func (s *Server) build(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	o := engine.BuildOptions{Pull: s.pull}
	o.Tags = q["t"]
	o.NoCache = boolValue(r, "nocache")
	o.Quiet = boolValue(r, "q")
	o.Target = q.Get("target")
	if v := q.Get("buildargs"); v != "" {
		var args map[string]*string
		if err := json.Unmarshal([]byte(v), &args); err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("buildargs: %w", err))
		}
		o.BuildArgs = map[string]string{}
		for k, v := range args {
			if v != nil {
				o.BuildArgs[k] = *v
			}
		}
	}
	if q.Get("remote") != "" {
		return errdefs.InvalidParameter(errors.New("remote build contexts are not supported: send the context as a tar"))
	}
	o.Dockerfile = q.Get("dockerfile") // inside the context
	st := &streamer{w: w, rc: http.NewResponseController(w)}
	out := &streamLines{send: func(line string) { st.send(jsonProgress{Stream: line}) }}
	id, err := s.e.BuildArchive(r.Context(), r.Body, o, out)
	out.flush()
	if err != nil {
		st.mu.Lock()
		started := st.started
		st.mu.Unlock()
		var be *builder.Error
		if !started && !errors.As(err, &be) {
			return err
		}
		code := 1
		if errors.As(err, &be) && be.Code > 0 {
			code = be.Code
		}
		st.send(jsonProgress{ErrorDetail: &errorDetail{Code: code, Message: err.Error()}, Error: err.Error()})
		return nil
	}
	if o.Quiet {
		st.send(jsonProgress{Stream: id.String() + "\n"})
	}
	st.send(jsonProgress{Aux: map[string]string{"ID": id.String()}})
	return nil
}

// streamLines turns the builder's output into one message per line.
type streamLines struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	send func(string)
}

func (s *streamLines) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	for {
		line, err := s.buf.ReadString('\n')
		if err != nil {
			s.buf.WriteString(line) // not a whole line yet
			return len(p), nil
		}
		s.send(line)
	}
}

func (s *streamLines) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rest := s.buf.String(); rest != "" {
		s.send(rest)
		s.buf.Reset()
	}
}
