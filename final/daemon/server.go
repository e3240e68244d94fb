// Package daemon is minidocker's dockerd: the Docker Engine API served over
// HTTP on a unix socket, so that the docker CLI and the SDKs drive
// minidocker. It only translates: the request's path, query and JSON in,
// one engine call (package engine, the only door to containers and
// images), JSON out; an error's kind (package errdefs) becomes its HTTP
// status, with Docker's body {"message": "..."}.
//
// The routes are net/http ServeMux patterns ("POST /containers/{id}/start").
// Every route also answers under /v{version}: the middleware checks that
// version (1.24 up to APIVersion; newer is 400 with Docker's message),
// strips it, and sets the Api-Version, Server and Ostype headers.
//
// Containers belong to their monitors, not to the daemon: the daemon holds
// no state of its own but what one request hands to the next (an attach or
// a wait made before the start, as docker run does), so a daemon killed and
// started again finds every container as it was.
package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"minidocker/final/engine"
	"minidocker/final/errdefs"
)

const (
	// APIVersion is the newest Engine API version served.
	APIVersion = "1.43"
	// MinAPIVersion is the oldest accepted.
	MinAPIVersion = "1.24"
	// Version is the daemon's version, as /version reports it.
	Version = "0.1.0-minidocker"
	// maxBody is the largest request body read.
	maxBody = 1 << 20
)

// Server is the API's handler: an http.Handler over one engine.
type Server struct {
	e    *engine.Engine
	pull engine.PullOptions
	mux  *http.ServeMux
	log  *log.Logger

	mu      sync.Mutex
	pending map[string]*pendingAttach // attaches made before the start, by container ID
	waiters map[string][]chan int     // next-exit/removed waits made before the start
	// consoleSize is a -t container's HostConfig.ConsoleSize, from its
	// create to its first start.
	consoleSize map[string]*engine.Size
	execs       map[string]*execRecord // docker exec's instances, by exec ID
}

// New returns the API handler for e; pull is how it reaches registries.
func New(e *engine.Engine, pull engine.PullOptions, logger *log.Logger) *Server {
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	s := &Server{e: e, pull: pull, mux: http.NewServeMux(), log: logger,
		pending: map[string]*pendingAttach{}, waiters: map[string][]chan int{}, consoleSize: map[string]*engine.Size{}, execs: map[string]*execRecord{}}
	s.routes()
	return s
}

// handler is a route: it returns an error of a kind, which ServeHTTP turns
// into a status; a handler that wrote its answer returns nil.
type handler func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(pattern string, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			if errdefs.HTTPStatus(err) >= 500 {
				s.log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
			}
			writeError(w, err)
		}
	})
}

func (s *Server) routes() {
	s.handle("GET /_ping", s.ping)
	s.handle("GET /version", s.version)
	s.handle("GET /info", s.info)

	s.handle("POST /images/create", s.imageCreate)
	s.handle("POST /images/prune", s.imagePrune)
	s.handle("POST /containers/prune", s.containerPrune)
	s.handle("GET /system/df", s.systemDF)
	s.handle("POST /build/prune", s.buildPrune)
	s.handle("GET /images/json", s.imageList)
	s.handle("GET /images/search", s.imageSearch)
	s.handle("GET /images/{name...}", s.imageGet) // names have slashes: .../json, .../get
	s.handle("GET /images/get", func(w http.ResponseWriter, r *http.Request) error { return s.imageSave(w, r, nil) })
	s.handle("POST /images/load", s.imageLoad)
	s.handle("POST /build", s.build)
	s.handle("DELETE /images/{name...}", s.imageDelete)
	s.handle("POST /images/{name...}", s.imagePost) // .../tag, .../push

	s.handle("POST /containers/create", s.containerCreate)
	s.handle("GET /containers/json", s.containerList)
	s.handle("GET /containers/{id}/json", s.containerInspect)
	s.handle("POST /containers/{id}/start", s.containerStart)
	s.handle("POST /containers/{id}/stop", s.containerStop)
	s.handle("POST /containers/{id}/kill", s.containerKill)
	s.handle("POST /containers/{id}/restart", s.containerRestart)
	s.handle("POST /containers/{id}/update", s.containerUpdate)
	s.handle("POST /containers/{id}/wait", s.containerWait)
	s.handle("POST /containers/{id}/attach", s.containerAttach)
	s.handle("POST /containers/{id}/resize", s.containerResize)
	s.handle("GET /containers/{id}/logs", s.containerLogs)
	s.handle("DELETE /containers/{id}", s.containerDelete)
	s.handle("POST /containers/{id}/rename", s.containerRename)
	s.handle("POST /containers/{id}/pause", s.containerPause)
	s.handle("GET /containers/{id}/top", s.containerTop)
	s.handle("GET /containers/{id}/stats", s.containerStats)
	s.handle("POST /volumes/create", s.volumeCreate)
	s.handle("GET /volumes", s.volumeList)
	s.handle("POST /volumes/prune", s.volumePrune)
	s.handle("GET /volumes/{name}", s.volumeInspect)
	s.handle("DELETE /volumes/{name}", s.volumeDelete)
	s.handle("POST /containers/{id}/unpause", s.containerUnpause)
	s.handle("POST /containers/{id}/exec", s.containerExecCreate)
	s.handle("POST /exec/{id}/start", s.execStart)
	s.handle("POST /exec/{id}/resize", s.execResize)
	s.handle("GET /exec/{id}/json", s.execInspect)
	s.networkRoutes()
	s.handle("HEAD /containers/{id}/archive", s.containerArchiveHead)
	s.handle("GET /containers/{id}/archive", s.containerArchiveGet)
	s.handle("PUT /containers/{id}/archive", s.containerArchivePut)
}

var versioned = regexp.MustCompile(`^/v([0-9]+\.[0-9]+)(/.*)$`)

// ServeHTTP is the middleware: headers, the version prefix, the body's
// limit, then the route; no route is Docker's 404 "page not found".
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Api-Version", APIVersion)
	h.Set("Server", "Docker/"+Version+" (linux)")
	h.Set("Ostype", "linux")
	uri := r.URL.RequestURI()
	if m := versioned.FindStringSubmatch(r.URL.Path); m != nil {
		v := m[1]
		if versionLess(APIVersion, v) {
			writeError(w, errdefs.InvalidParameter(fmt.Errorf("client version %s is too new. Maximum supported API version is %s", v, APIVersion)))
			return
		}
		if versionLess(v, MinAPIVersion) {
			writeError(w, errdefs.InvalidParameter(fmt.Errorf("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", v, MinAPIVersion)))
			return
		}
		r.URL.Path = m[2]
		r.URL.RawPath = ""
	}
	if r.Body != nil && !archiveBody(r.URL.Path) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		writeError(w, errdefs.NotFound(errors.New("page not found")))
		return
	}
	s.log.Printf("%s %s", r.Method, uri)
	s.mux.ServeHTTP(w, r)
}

// versionLess compares "1.41"-style versions.
func versionLess(a, b string) bool {
	pa, pb := strings.SplitN(a, ".", 2), strings.SplitN(b, ".", 2)
	for i := range 2 {
		x, y := 0, 0
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// writeError answers err with its kind's status and Docker's body; 304
// has no body.
func writeError(w http.ResponseWriter, err error) {
	status := errdefs.HTTPStatus(err)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		status = http.StatusRequestEntityTooLarge
	}
	if status == http.StatusNotModified {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, map[string]string{"message": err.Error()})
}

// archiveBody says whether a request's body is an archive rather than
// JSON, and so is not bounded: docker load's images, docker cp's files,
// docker build's context.
func archiveBody(path string) bool {
	return path == "/images/load" || path == "/build" || strings.HasSuffix(path, "/archive")
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body into v: a bad one is 400.
func decode(r *http.Request, v any) error {
	if r.Body == nil {
		return nil
	}
	err := json.NewDecoder(r.Body).Decode(v)
	if errors.Is(err, io.EOF) {
		return nil // no body: the zero value
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	if err != nil {
		return errdefs.InvalidParameter(fmt.Errorf("invalid JSON: %w", err))
	}
	return nil
}

// boolValue is Docker's query boolean: "", "0", "no", "false", "none" are
// false.
func boolValue(r *http.Request, k string) bool {
	switch strings.ToLower(strings.TrimSpace(r.URL.Query().Get(k))) {
	case "", "0", "no", "false", "none":
		return false
	}
	return true
}

func intValue(r *http.Request, k string, def int) (int, error) {
	v := r.URL.Query().Get(k)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errdefs.InvalidParameter(fmt.Errorf("invalid value for %q: %q", k, v))
	}
	return n, nil
}

// ---- system ----

func (s *Server) ping(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.WriteString(w, "OK")
	}
	return nil
}

func (s *Server) version(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]any{
		"Platform":   map[string]string{"Name": "minidocker"},
		"Components": []map[string]any{{"Name": "Engine", "Version": Version, "Details": map[string]string{"ApiVersion": APIVersion, "MinAPIVersion": MinAPIVersion, "Os": "linux", "Arch": runtime.GOARCH}}},
		"Version":    Version, "ApiVersion": APIVersion, "MinAPIVersion": MinAPIVersion,
		"GitCommit": "", "GoVersion": runtime.Version(), "Os": "linux", "Arch": runtime.GOARCH,
		"KernelVersion": kernel(), "BuildTime": "",
	})
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) error {
	list, err := s.e.List(true)
	if err != nil {
		return err
	}
	running := 0
	for _, c := range list {
		if c.State.Running {
			running++
		}
	}
	images, err := s.e.Images()
	if err != nil {
		return err
	}
	name, _ := os.Hostname()
	return writeJSON(w, http.StatusOK, map[string]any{
		"ID": "minidocker", "Name": name, "ServerVersion": Version,
		"Containers": len(list), "ContainersRunning": running, "ContainersPaused": 0, "ContainersStopped": len(list) - running,
		"Images": len(images), "Driver": "overlay2", "DockerRootDir": s.e.Root,
		"OperatingSystem": "minidocker", "OSType": "linux", "Architecture": runtime.GOARCH,
		"KernelVersion": kernel(), "NCPU": runtime.NumCPU(), "CgroupDriver": "cgroupfs",
		"LoggingDriver": "json-file", "SecurityOptions": []string{"name=seccomp,profile=builtin"},
	})
}
