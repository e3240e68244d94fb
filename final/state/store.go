package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"minidocker/internal/atomicfile"
	"minidocker/internal/flock"
)

// File and directory names under <root>/containers.
const (
	containersDir = "containers"
	lockName      = ".lock"
	configName    = "config.json"
	stateName     = "state.json"
	tmpPrefix     = ".tmp-"      // a container being created
	removePrefix  = ".removing-" // a container being removed
)

// Store is the containers' state under one data root.
type Store struct {
	dir string // <root>/containers

	// names is what the last Get that read every config learnt: name ->
	// ID. A Get by name tries it first, and takes the container it points
	// at only if that container still has the name; otherwise (removed,
	// renamed, or a name it never saw) it reads every config again. So
	// "rm -f a b c …" reads each config once, not once per argument. It
	// is only a hint: the answer is always the one a full scan gives.
	mu    sync.Mutex
	names map[string]string
}

// Open returns the store under root (the data root, e.g.
// /var/lib/minidocker), creating <root>/containers if needed. Both are
// 0700, and made so again on every open (a root an older version created
// 0755 is fixed): a container's directory holds its writable layer, where
// setuid-root files may be.
func Open(root string) (*Store, error) {
	dir := filepath.Join(root, containersDir)
	for _, d := range []string{root, dir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("open container store: %w", err)
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return nil, fmt.Errorf("open container store: %w", err)
		}
	}
	return &Store{dir: dir}, nil
}

// Dir is the container's directory, where its log file and its own
// writable layer go too.
func (s *Store) Dir(id string) string { return filepath.Join(s.dir, id) }

// configFile is config.json: all of Container except State.
type configFile struct {
	ID      string
	Name    string
	Created time.Time
	Config  Config
}

// lock takes the store's exclusive lock; call the returned func to drop it.
func (s *Store) lock() (func(), error) {
	unlock, err := flock.Lock(filepath.Join(s.dir, lockName))
	if err != nil {
		return nil, fmt.Errorf("lock container store: %w", err)
	}
	return unlock, nil
}

// Lock takes the container's own lock: an exclusive flock(2) on the file
// .lock in its directory. The engine holds it across whatever must see one
// state from start to end: a start (from the state check until the
// container is recorded running, or failed), stop, kill, rm, and the
// monitor's recording of the exit. It is not the store's lock (which guards
// each single write, for every container): a container being started does
// not stop "ps" or another container.
//
// A waiter may get the lock after the holder removed the container (the
// lock file went with the directory): Lock then checks that the directory
// is still there, and returns an error wrapping ErrNotFound when not. The
// directory only leaves through Remove, which its caller does with this
// lock held. Call unlock to release it.
func (s *Store) Lock(id string) (unlock func(), err error) {
	if len(id) != 64 || !isHex(id) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	path := filepath.Join(s.Dir(id), lockName)
	unlock, err = flock.Lock(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("lock container %s: %w", id, err)
	}
	if _, err := os.Stat(path); err != nil {
		unlock()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return nil, fmt.Errorf("lock container %s: %w", id, err)
	}
	return unlock, nil
}

// Create stores a new container: it sets c.ID to a new random ID, c.Name to
// a generated name when empty, c.Created to now when zero, c.State.Status
// to Created when empty and c.Config.LogPath to Dir(ID)/<ID>-json.log when
// empty. A name that another container has gives a *ConflictError.
func (s *Store) Create(c *Container) error {
	if c.Name != "" {
		if err := ValidateName(c.Name); err != nil {
			return err
		}
		c.Name = strings.TrimPrefix(c.Name, "/")
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()

	ids, names, err := s.scan()
	if err != nil {
		return fmt.Errorf("create container: %w", err)
	}
	if c.Name != "" {
		if id, ok := names[c.Name]; ok {
			return &ConflictError{Name: c.Name, ID: id}
		}
	}
	c.ID = NewID()
	for slices.Contains(ids, c.ID) {
		c.ID = NewID()
	}
	if c.Name == "" {
		c.Name = generateName(c.ID, names)
	}
	if c.Created.IsZero() {
		c.Created = time.Now().UTC()
	}
	if c.State.Status == "" {
		c.State.Status = Created
	}
	if c.Config.LogPath == "" {
		c.Config.LogPath = filepath.Join(s.Dir(c.ID), c.ID+"-json.log")
	}
	if err := s.write(c); err != nil {
		return fmt.Errorf("create container %s: %w", c.ID, err)
	}
	return nil
}

// generateName picks a free adjective_surname, falling back to the short
// ID after a few collisions (moby daemon/names.go generateNewName).
func generateName(id string, taken map[string]string) string {
	for retry := range 6 {
		if name := randomName(retry); taken[name] == "" {
			return name
		}
	}
	return ShortID(id)
}

// write creates the container's directory with both files in place: they
// are written into .tmp-<id> and the directory renamed, so readers see the
// whole container or nothing. Called with the lock held.
func (s *Store) write(c *Container) error {
	tmp := filepath.Join(s.dir, tmpPrefix+c.ID)
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	cfg, st, err := marshal(c)
	if err != nil {
		return err
	}
	write := writeFor(c)
	if err := write(filepath.Join(tmp, configName), cfg, 0o600); err != nil {
		return err
	}
	if err := write(filepath.Join(tmp, stateName), st, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.Dir(c.ID)); err != nil {
		return err
	}
	ok = true
	if c.Config.AutoRemove {
		return nil
	}
	return atomicfile.SyncDir(s.dir)
}

// writeFor is how c's files are written: durably (fsynced), unless c is a
// --rm container, whose state goes when it exits; a power cut then loses
// at most a container that --rm would have deleted.
func writeFor(c *Container) func(string, []byte, os.FileMode) error {
	if c.Config.AutoRemove {
		return atomicfile.WriteVolatile
	}
	return atomicfile.Write
}

// scan returns the IDs of the stored containers and their names (name ->
// ID). Stale .tmp- directories, left by a Create that was killed, are
// removed: scan runs under the lock, so no Create is in progress.
func (s *Store) scan() (ids []string, names map[string]string, err error) {
	ids, err = s.ids(true)
	if err != nil {
		return nil, nil, err
	}
	configs, err := s.readConfigs(ids)
	if err != nil {
		return nil, nil, err
	}
	names = make(map[string]string, len(configs))
	for _, cf := range configs {
		if cf != nil {
			names[cf.Name] = cf.ID
		}
	}
	return ids, names, nil
}

// ids lists the container directories; sweep removes stale .tmp- and
// .removing- ones.
func (s *Store) ids(sweep bool) ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		switch name := e.Name(); {
		case e.IsDir() && len(name) == 64 && isHex(name):
			ids = append(ids, name)
		case sweep && (strings.HasPrefix(name, tmpPrefix) || strings.HasPrefix(name, removePrefix)):
			// A Create or a Remove that was killed half-way. (A Remove in
			// progress deletes its .removing- tree without the lock; two
			// deletions of one tree are harmless.)
			os.RemoveAll(filepath.Join(s.dir, name))
		}
	}
	return ids, nil
}

// readConfigs reads the config.json of each ID, a few at a time: the time
// goes into open(2) and read(2), not into decoding. A container removed
// meanwhile gives a nil entry.
func (s *Store) readConfigs(ids []string) ([]*configFile, error) {
	configs := make([]*configFile, len(ids))
	err := parallel(len(ids), func(i int) error {
		var cf configFile
		err := readJSON(filepath.Join(s.Dir(ids[i]), configName), &cf)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		configs[i] = &cf
		return err
	})
	return configs, err
}

// parallel calls fn(0) ... fn(n-1) from a few goroutines and returns the
// first error.
func parallel(n int, fn func(i int) error) error {
	var g errgroup.Group
	g.SetLimit(2 * runtime.GOMAXPROCS(0))
	for i := range n {
		g.Go(func() error { return fn(i) })
	}
	return g.Wait()
}

// Get finds a container by full ID, by name (with or without the leading
// "/") or by a unique prefix of its ID, in that order, as docker does.
// It returns an error wrapping ErrNotFound or ErrAmbiguous when none or
// several match.
func (s *Store) Get(ref string) (*Container, error) {
	if ref == "" {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, ref)
	}
	if len(ref) == 64 && isHex(ref) {
		c, err := s.load(ref)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return c, err
		}
	}
	name := strings.TrimPrefix(ref, "/")
	s.mu.Lock()
	id, known := s.names[name]
	s.mu.Unlock()
	if known {
		if c, err := s.load(id); err == nil && c.Name == name {
			return c, nil
		}
	}
	ids, err := s.ids(false)
	if err != nil {
		return nil, fmt.Errorf("get container %s: %w", ref, err)
	}
	configs, err := s.readConfigs(ids)
	if err != nil {
		return nil, fmt.Errorf("get container %s: %w", ref, err)
	}
	names := make(map[string]string, len(configs))
	for _, cf := range configs {
		if cf != nil {
			names[cf.Name] = cf.ID
		}
	}
	s.mu.Lock()
	s.names = names
	s.mu.Unlock()
	for _, cf := range configs {
		if cf != nil && cf.Name == name {
			return s.load(cf.ID)
		}
	}
	var prefixed []string
	for _, cf := range configs {
		if cf != nil && strings.HasPrefix(cf.ID, ref) {
			prefixed = append(prefixed, cf.ID)
		}
	}
	switch len(prefixed) {
	case 0:
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	case 1:
		return s.load(prefixed[0])
	default:
		return nil, fmt.Errorf("%w: %s", ErrAmbiguous, ref)
	}
}

// List returns every container, newest first.
func (s *Store) List() ([]*Container, error) {
	ids, err := s.ids(false)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	loaded := make([]*Container, len(ids))
	err = parallel(len(ids), func(i int) error {
		c, err := s.load(ids[i])
		if errors.Is(err, ErrNotFound) {
			return nil // removed since ReadDir
		}
		loaded[i] = c
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	list := slices.DeleteFunc(loaded, func(c *Container) bool { return c == nil })
	slices.SortFunc(list, func(a, b *Container) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return list, nil
}

// load reads one container's two files.
func (s *Store) load(id string) (*Container, error) {
	dir := s.Dir(id)
	var cf configFile
	if err := readJSON(filepath.Join(dir, configName), &cf); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return nil, err
	}
	c := &Container{ID: cf.ID, Name: cf.Name, Created: cf.Created, Config: cf.Config}
	if err := readJSON(filepath.Join(dir, stateName), &c.State); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return nil, err
	}
	return c, nil
}

// Update reads the container with the full ID id, calls fn on it and
// writes back what fn changed, all under the store's lock, so that
// concurrent updates (the monitor recording the exit, a docker stop) never
// overwrite each other. An error from fn is returned as is and nothing is
// written. fn must not change the ID; a changed name is checked like
// Create's (rename). fn should be quick: every other change waits for it.
func (s *Store) Update(id string, fn func(*Container) error) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()

	c, err := s.load(id)
	if err != nil {
		return fmt.Errorf("update container %s: %w", id, err)
	}
	oldCfg, oldState, err := marshal(c)
	if err != nil {
		return fmt.Errorf("update container %s: %w", id, err)
	}
	oldName := c.Name
	if err := fn(c); err != nil {
		return err
	}
	if c.ID != id {
		return fmt.Errorf("update container %s: the ID cannot change (to %q)", id, c.ID)
	}
	if c.Name != oldName {
		if err := s.checkRename(c); err != nil {
			return fmt.Errorf("rename container %s: %w", id, err)
		}
	}
	cfg, st, err := marshal(c)
	if err != nil {
		return fmt.Errorf("update container %s: %w", id, err)
	}
	dir := s.Dir(id)
	write := writeFor(c)
	if !bytes.Equal(cfg, oldCfg) {
		if err := write(filepath.Join(dir, configName), cfg, 0o600); err != nil {
			return fmt.Errorf("update container %s: %w", id, err)
		}
	}
	if !bytes.Equal(st, oldState) {
		if err := write(filepath.Join(dir, stateName), st, 0o600); err != nil {
			return fmt.Errorf("update container %s: %w", id, err)
		}
	}
	return nil
}

// checkRename validates c's new name and checks that no other container
// has it. Called with the lock held.
func (s *Store) checkRename(c *Container) error {
	if err := ValidateName(c.Name); err != nil {
		return err
	}
	c.Name = strings.TrimPrefix(c.Name, "/")
	_, names, err := s.scan()
	if err != nil {
		return err
	}
	if id, ok := names[c.Name]; ok && id != c.ID {
		return &ConflictError{Name: c.Name, ID: id}
	}
	return nil
}

// Remove deletes the container with the full ID id and its directory,
// whatever is in it: unmount its filesystems first. Hold the container's
// Lock while calling it, so that nothing starts the container meanwhile. The container leaves
// the store at once (its name is free again) even if deleting the tree then
// fails; the error names the directory that is left.
func (s *Store) Remove(id string) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	if !isHex(id) || len(id) != 64 {
		unlock()
		return fmt.Errorf("remove container: %w: %s", ErrNotFound, id)
	}
	gone := filepath.Join(s.dir, removePrefix+id)
	os.RemoveAll(gone) // a previous Remove that failed half-way
	if err := os.Rename(s.Dir(id), gone); err != nil {
		unlock()
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove container: %w: %s", ErrNotFound, id)
		}
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	unlock()
	if err := os.RemoveAll(gone); err != nil {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	return nil
}

func marshal(c *Container) (cfg, st []byte, err error) {
	cfg, err = json.MarshalIndent(configFile{ID: c.ID, Name: c.Name, Created: c.Created, Config: c.Config}, "", "\t")
	if err != nil {
		return nil, nil, err
	}
	st, err = json.MarshalIndent(c.State, "", "\t")
	if err != nil {
		return nil, nil, err
	}
	return append(cfg, '\n'), append(st, '\n'), nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}
