package state

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func openStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	require.NoError(t, err, "open store")
	return s
}

func sampleContainer(name string) *Container {
	return &Container{
		Name:    name,
		Created: time.Date(2026, 11, 22, 10, 0, 0, 123, time.UTC),
		Config: Config{
			Image:      "busybox",
			ImageID:    "sha256:ab12" + strings.Repeat("0", 60),
			Cmd:        []string{"httpd", "-f", "-p", "80"},
			Env:        []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "A=b c"},
			WorkingDir: "/www",
			Hostname:   "web1",
			Memory:     64 << 20,
			NanoCPUs:   500_000_000,
			PidsLimit:  100,
			Init:       true,
			Mounts:     []Mount{{Type: "bind", Source: "/srv/www", Destination: "/www", RW: false}},
			Network:    "bridge",
			Ports:      []PortBinding{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}},
		},
	}
}

func TestCreateGet(t *testing.T) {
	s := openStore(t)
	c := sampleContainer("web")
	require.NoError(t, s.Create(c))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(c.ID) {
		t.Fatalf("Create: ID = %q, want 64 hex", c.ID)
	}
	if want := filepath.Join(s.Dir(c.ID), c.ID+"-json.log"); c.Config.LogPath != want {
		t.Errorf("Create: LogPath = %q, want %q", c.Config.LogPath, want)
	}
	if c.State.Status != Created {
		t.Errorf("Create: Status = %q, want %q", c.State.Status, Created)
	}
	for _, name := range []string{configName, stateName} {
		_, err := os.Stat(filepath.Join(s.Dir(c.ID), name))
		require.NoError(t, err, "stat %s", name)
	}

	tests := []struct {
		name string
		ref  string
	}{
		{"full ID", c.ID},
		{"name", "web"},
		{"name with slash", "/web"},
		{"short ID", c.ShortID()},
		{"one-character prefix", c.ID[:1]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Get(tc.ref)
			require.NoError(t, err, "Get(%q)", tc.ref)
			if diff := cmp.Diff(c, got); diff != "" {
				t.Errorf("Get(%q) mismatch (-want +got):\n%s", tc.ref, diff)
			}
		})
	}
}

func TestCreateGeneratedName(t *testing.T) {
	s := openStore(t)
	seen := map[string]bool{}
	for range 30 {
		c := &Container{}
		require.NoError(t, s.Create(c))
		if !regexp.MustCompile(`^[a-z]+_[a-z]+[0-9]?$`).MatchString(c.Name) {
			t.Errorf("generated name %q, want adjective_surname", c.Name)
		}
		if seen[c.Name] {
			t.Errorf("generated name %q twice", c.Name)
		}
		seen[c.Name] = true
		if time.Since(c.Created) > time.Minute || c.Created.Location() != time.UTC {
			t.Errorf("Created = %v, want now in UTC", c.Created)
		}
	}
}

func TestGenerateNameFallsBackToShortID(t *testing.T) {
	taken := map[string]string{}
	for _, a := range adjectives {
		for _, s := range surnames {
			taken[a+"_"+s] = "x"
			for d := range 10 {
				taken[a+"_"+s+string(rune('0'+d))] = "x"
			}
		}
	}
	id := NewID()
	if got := generateName(id, taken); got != id[:12] {
		t.Errorf("generateName(all taken) = %q, want the short ID %q", got, id[:12])
	}
}

func TestCreateNameConflict(t *testing.T) {
	s := openStore(t)
	first := sampleContainer("web")
	require.NoError(t, s.Create(first))

	for _, name := range []string{"web", "/web"} {
		err := s.Create(sampleContainer(name))
		if !errors.Is(err, ErrNameConflict) {
			t.Fatalf("Create(%q) again = %v, want ErrNameConflict", name, err)
		}
		ce, ok := errors.AsType[*ConflictError](err)
		if !ok {
			t.Fatalf("Create(%q) again = %T, want *ConflictError", name, err)
		}
		if diff := cmp.Diff(&ConflictError{Name: "web", ID: first.ID}, ce); diff != "" {
			t.Errorf("ConflictError mismatch (-want +got):\n%s", diff)
		}
		want := `container name "/web" is already in use by container "` + first.ID + `"`
		if err.Error() != want {
			t.Errorf("Create(%q) again = %q, want %q", name, err, want)
		}
	}
	list, err := s.List()
	require.NoError(t, err)
	if len(list) != 1 {
		t.Errorf("List() has %d containers after the conflict, want 1", len(list))
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"simple", "web", false},
		{"leading slash", "/web", false},
		{"all allowed characters", "a1_b.c-D", false},
		{"two characters", "ab", false},
		{"one character", "a", true},
		{"empty", "", true},
		{"leading dash", "-web", true},
		{"leading underscore", "_web", true},
		{"space", "my web", true},
		{"slash inside", "a/b", true},
		{"unicode", "wéb", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateName(tc.in)
			if gotErr := err != nil; gotErr != tc.wantErr {
				t.Fatalf("ValidateName(%q) = %v, want error: %v", tc.in, err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalidName) {
				t.Errorf("ValidateName(%q) = %v, want ErrInvalidName", tc.in, err)
			}
		})
	}
	want := "invalid container name (a b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
	if err := ValidateName("a b"); err == nil || err.Error() != want {
		t.Errorf("ValidateName(%q) = %v, want %q", "a b", err, want)
	}
	if err := openStore(t).Create(&Container{Name: "bad name"}); !errors.Is(err, ErrInvalidName) {
		t.Errorf("Create(bad name) = %v, want ErrInvalidName", err)
	}
}

func TestGetErrors(t *testing.T) {
	s := openStore(t)
	// 17 IDs: two of them share their first hex digit (pigeonhole).
	byFirst := map[byte][]string{}
	var ambiguous string
	for range 17 {
		c := &Container{}
		require.NoError(t, s.Create(c))
		byFirst[c.ID[0]] = append(byFirst[c.ID[0]], c.ID)
		if len(byFirst[c.ID[0]]) == 2 {
			ambiguous = c.ID[:1]
		}
	}
	require.NotEmpty(t, ambiguous)

	tests := []struct {
		name string
		ref  string
		want error
		text string
	}{
		{"unknown name", "nope", ErrNotFound, "no such container: nope"},
		{"empty", "", ErrNotFound, `no such container: ""`},
		{"unknown full ID", NewID(), ErrNotFound, ""},
		{"ambiguous prefix", ambiguous, ErrAmbiguous, "multiple IDs found with provided prefix: " + ambiguous},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Get(tc.ref)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Get(%q) = %v, want %v", tc.ref, err, tc.want)
			}
			if tc.text != "" && err.Error() != tc.text {
				t.Errorf("Get(%q) = %q, want %q", tc.ref, err, tc.text)
			}
		})
	}
}

// TestGetNameBeforePrefix: a name wins over an ID prefix, as in docker.
func TestGetNameBeforePrefix(t *testing.T) {
	s := openStore(t)
	a := &Container{}
	require.NoError(t, s.Create(a))
	b := &Container{Name: a.ID[:4]}
	require.NoError(t, s.Create(b))
	got, err := s.Get(a.ID[:4])
	require.NoError(t, err)
	if got.ID != b.ID {
		t.Errorf("Get(%q) = container %s, want the one named so (%s)", a.ID[:4], got.ID, b.ID)
	}
}

func TestListNewestFirst(t *testing.T) {
	s := openStore(t)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, h := range []int{3, 1, 4, 0, 2} {
		c := &Container{Name: "c" + string(rune('0'+h)), Created: base.Add(time.Duration(h) * time.Hour)}
		require.NoError(t, s.Create(c))
	}
	// Neither half-created nor half-removed containers are listed.
	require.NoError(t, os.Mkdir(filepath.Join(s.dir, tmpPrefix+NewID()), 0o700))
	require.NoError(t, os.Mkdir(filepath.Join(s.dir, removePrefix+NewID()), 0o700))

	list, err := s.List()
	require.NoError(t, err)
	var got []string
	for _, c := range list {
		got = append(got, c.Name)
	}
	if diff := cmp.Diff([]string{"c4", "c3", "c2", "c1", "c0"}, got); diff != "" {
		t.Errorf("List() names mismatch (-want +got):\n%s", diff)
	}
}

func TestCreateRemovesStaleTmp(t *testing.T) {
	s := openStore(t)
	stale := filepath.Join(s.dir, tmpPrefix+NewID())
	require.NoError(t, os.Mkdir(stale, 0o700))
	require.NoError(t, s.Create(&Container{}))
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale %s after Create: %v, want it removed", stale, err)
	}
}

func TestUpdate(t *testing.T) {
	s := openStore(t)
	c := sampleContainer("web")
	require.NoError(t, s.Create(c))
	other := &Container{Name: "db"}
	require.NoError(t, s.Create(other))

	started := time.Date(2026, 11, 22, 10, 0, 1, 0, time.UTC)
	require.NoError(t, s.Update(c.ID, func(c *Container) error {
		c.State = State{Status: Running, Running: true, Pid: 4242, MonitorPid: 4241, StartedAt: started}
		c.Config.IPAddress = "172.30.0.2"
		return nil
	}))
	want := *c
	want.State = State{Status: Running, Running: true, Pid: 4242, MonitorPid: 4241, StartedAt: started}
	want.Config.IPAddress = "172.30.0.2"
	got, err := s.Get("web")
	require.NoError(t, err)
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("Get after Update mismatch (-want +got):\n%s", diff)
	}

	t.Run("an error from fn writes nothing", func(t *testing.T) {
		errStop := errors.New("stop")
		err := s.Update(c.ID, func(c *Container) error {
			c.State.Pid = 1
			return errStop
		})
		if err != errStop {
			t.Errorf("Update = %v, want fn's error as is", err)
		}
		got, err := s.Get(c.ID)
		require.NoError(t, err)
		if got.State.Pid != 4242 {
			t.Errorf("Pid = %d after a failed Update, want 4242", got.State.Pid)
		}
	})
	t.Run("the ID cannot change", func(t *testing.T) {
		err := s.Update(c.ID, func(c *Container) error { c.ID = NewID(); return nil })
		if err == nil {
			t.Error("Update changing the ID = nil, want an error")
		}
	})
	t.Run("rename to a taken name", func(t *testing.T) {
		err := s.Update(c.ID, func(c *Container) error { c.Name = "db"; return nil })
		if !errors.Is(err, ErrNameConflict) {
			t.Errorf("rename to db = %v, want ErrNameConflict", err)
		}
	})
	t.Run("rename", func(t *testing.T) {
		require.NoError(t, s.Update(c.ID, func(c *Container) error { c.Name = "/web2"; return nil }))
		got, err := s.Get("web2")
		require.NoError(t, err)
		if got.ID != c.ID || got.Name != "web2" {
			t.Errorf("Get(web2) = %s %q, want %s %q", got.ID, got.Name, c.ID, "web2")
		}
		if _, err := s.Get("web"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(web) after rename = %v, want ErrNotFound", err)
		}
	})
	t.Run("unknown ID", func(t *testing.T) {
		err := s.Update(NewID(), func(*Container) error { return nil })
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("Update(unknown) = %v, want ErrNotFound", err)
		}
	})
}

func TestRemove(t *testing.T) {
	s := openStore(t)
	c := sampleContainer("web")
	require.NoError(t, s.Create(c))
	// The lead puts the log and the container's layer in Dir.
	require.NoError(t, os.MkdirAll(filepath.Join(s.Dir(c.ID), "upper", "etc"), 0o755))
	require.NoError(t, os.WriteFile(c.Config.LogPath, []byte("{}\n"), 0o600))

	require.NoError(t, s.Remove(c.ID))
	if _, err := s.Get("web"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Remove = %v, want ErrNotFound", err)
	}
	entries, err := os.ReadDir(s.dir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() != lockName {
			t.Errorf("left in the store after Remove: %s", e.Name())
		}
	}
	if err := s.Remove(c.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove twice = %v, want ErrNotFound", err)
	}
	if err := s.Remove("web"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove(name) = %v, want ErrNotFound (full IDs only)", err)
	}
	require.NoError(t, s.Create(sampleContainer("web")), "reuse the name")
}

// TestConcurrentCreateGoroutines: many goroutines create the same name;
// exactly one wins.
func TestConcurrentCreateGoroutines(t *testing.T) {
	s := openStore(t)
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.Create(&Container{Name: "web"}) })
	}
	wg.Wait()
	ok, conflicts := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrNameConflict):
			conflicts++
		default:
			t.Errorf("Create: %v", err)
		}
	}
	if ok != 1 || conflicts != n-1 {
		t.Errorf("%d concurrent Create(web): %d created, %d conflicts; want 1 and %d", n, ok, conflicts, n-1)
	}
}

// TestConcurrentUpdates: read-modify-write under the lock loses nothing.
func TestConcurrentUpdates(t *testing.T) {
	s := openStore(t)
	c := &Container{}
	require.NoError(t, s.Create(c))
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				if err := s.Update(c.ID, func(c *Container) error { c.State.ExitCode++; return nil }); err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := s.Get(c.ID)
	require.NoError(t, err)
	if got.State.ExitCode != workers*each {
		t.Errorf("counter = %d after %d updates, want %d", got.State.ExitCode, workers*each, workers*each)
	}
}

func TestInspect(t *testing.T) {
	c := sampleContainer("web")
	c.ID = "4f2c0000000000000000000000000000000000000000000000000000000000aa"
	c.Config.Entrypoint = []string{"/bin/entry"}
	c.Config.Labels = map[string]string{"app": "web"}
	c.Config.LogPath = "/var/lib/minidocker/containers/4f2c/4f2c-json.log"
	c.Config.IPAddress = "172.30.0.2"
	c.State = State{Status: Running, Running: true, Pid: 4242, StartedAt: time.Date(2026, 11, 22, 10, 0, 1, 0, time.UTC)}
	got, err := json.MarshalIndent(c.Inspect(), "", "  ")
	require.NoError(t, err)
	want := `{
  "Id": "4f2c0000000000000000000000000000000000000000000000000000000000aa",
  "Created": "2026-11-22T10:00:00.000000123Z",
  "Path": "/bin/entry",
  "Args": [
    "httpd",
    "-f",
    "-p",
    "80"
  ],
  "State": {
    "Status": "running",
    "Running": true,
    "Paused": false,
    "Restarting": false,
    "OOMKilled": false,
    "Dead": false,
    "Pid": 4242,
    "ExitCode": 0,
    "Error": "",
    "StartedAt": "2026-11-22T10:00:01Z",
    "FinishedAt": "0001-01-01T00:00:00Z"
  },
  "Image": "sha256:ab12000000000000000000000000000000000000000000000000000000000000",
  "LogPath": "/var/lib/minidocker/containers/4f2c/4f2c-json.log",
  "Name": "/web",
  "RestartCount": 0,
  "HostConfig": {
    "NetworkMode": "bridge",
    "Dns": [],
    "PortBindings": {
      "80/tcp": [
        {
          "HostIp": "",
          "HostPort": "8080"
        }
      ]
    },
    "AutoRemove": false,
    "RestartPolicy": {
      "Name": "no",
      "MaximumRetryCount": 0
    },
    "Memory": 67108864,
    "NanoCpus": 500000000,
    "PidsLimit": 100,
    "Init": true,
    "Privileged": false,
    "CapAdd": null,
    "CapDrop": null,
    "SecurityOpt": null,
    "ReadonlyRootfs": false
  },
  "Mounts": [
    {
      "Type": "bind",
      "Source": "/srv/www",
      "Destination": "/www",
      "Mode": "",
      "RW": false,
      "Propagation": "rprivate"
    }
  ],
  "Config": {
    "Hostname": "web1",
    "User": "",
    "Tty": false,
    "OpenStdin": false,
    "Env": [
      "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
      "A=b c"
    ],
    "Cmd": [
      "httpd",
      "-f",
      "-p",
      "80"
    ],
    "Image": "busybox",
    "WorkingDir": "/www",
    "Entrypoint": [
      "/bin/entry"
    ],
    "Labels": {
      "app": "web"
    }
  },
  "NetworkSettings": {
    "Ports": {
      "80/tcp": [
        {
          "HostIp": "0.0.0.0",
          "HostPort": "8080"
        }
      ]
    },
    "Gateway": "",
    "IPAddress": "172.30.0.2"
  }
}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("Inspect() JSON mismatch (-want +got):\n%s", diff)
	}
}

// TestOpenIsPrivate: the data root and containers/ are 0700, also when an
// older version made them 0755.
func TestOpenIsPrivate(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	for _, d := range []string{root, filepath.Join(root, containersDir)} {
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, os.Chmod(d, 0o755))
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	for _, r := range []string{root, fresh} {
		_, err := Open(r)
		require.NoError(t, err)
		for _, d := range []string{r, filepath.Join(r, containersDir)} {
			fi, err := os.Stat(d)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), d)
		}
	}
}

// TestCreateSweepsLeftovers: what a killed Create (.tmp-) or Remove
// (.removing-) left is gone after the next Create, which holds the lock.
func TestCreateSweepsLeftovers(t *testing.T) {
	s := openStore(t)
	for _, name := range []string{tmpPrefix + "dead", removePrefix + strings.Repeat("a", 64)} {
		require.NoError(t, os.MkdirAll(filepath.Join(s.dir, name, "rootfs", "etc"), 0o700))
	}
	require.NoError(t, s.Create(sampleContainer("web")))
	entries, err := os.ReadDir(s.dir)
	require.NoError(t, err)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") && e.Name() != lockName {
			t.Errorf("left over after Create: %s", e.Name())
		}
	}
}

// A Get by name reads only the named container's files once a scan has
// seen the name, and never trusts a name that moved: after a removal, a
// rename or a new container with the old name it answers as a full scan.
func TestGetByNameHint(t *testing.T) {
	// Names that are not hex: a name lookup must never meet a random ID
	// that happens to start with it ("aa" did, one run in about sixty).
	s := openStore(t)
	a, b, c := &Container{Name: "ann"}, &Container{Name: "bob"}, &Container{Name: "cid"}
	for _, ctr := range []*Container{a, b, c} {
		require.NoError(t, s.Create(ctr))
	}
	got, err := s.Get("ann") // reads every config
	require.NoError(t, err)
	require.Equal(t, a.ID, got.ID)

	// c's config broken: a full scan fails on it, a lookup of b by the
	// name already seen does not read it.
	cPath := filepath.Join(s.Dir(c.ID), configName)
	good, err := os.ReadFile(cPath)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cPath, []byte("{"), 0o600))
	got, err = s.Get("/bob")
	require.NoError(t, err, "b by the name already seen: c's config is not read")
	require.Equal(t, b.ID, got.ID)
	_, err = s.Get("nope")
	require.Error(t, err, "an unknown name scans everything, and c's config is broken")
	require.NoError(t, os.WriteFile(cPath, good, 0o600))

	// b removed and its name taken by a new container: the new one.
	require.NoError(t, s.Remove(b.ID))
	b2 := &Container{Name: "bob"}
	require.NoError(t, s.Create(b2))
	got, err = s.Get("bob")
	require.NoError(t, err)
	require.Equal(t, b2.ID, got.ID)

	// a renamed: "ann" is nobody's now, "zz" is a's.
	require.NoError(t, s.Update(a.ID, func(c *Container) error { c.Name = "zz"; return nil }))
	_, err = s.Get("ann")
	require.ErrorIs(t, err, ErrNotFound)
	got, err = s.Get("zz")
	require.NoError(t, err)
	require.Equal(t, a.ID, got.ID)

	// A full ID still wins over a name that looks like one.
	d := &Container{Name: c.ID}
	require.NoError(t, s.Create(d))
	got, err = s.Get(c.ID)
	require.NoError(t, err)
	require.Equal(t, c.ID, got.ID)
}
