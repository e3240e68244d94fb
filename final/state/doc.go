// Package state keeps the containers' stored state under a data root: what
// each container was created with, and what it is doing now, changed only
// under a lock so that concurrent minidocker commands never lose an update.
//
// # The idea
//
// minidocker has no daemon: every command is a new process that must find
// the containers the previous ones made. Like Docker's
// /var/lib/docker/containers/<id>/, each container gets a directory:
//
//	<root>/containers/
//	  .lock                  flock(2) here before any change
//	  <64-hex id>/
//	    config.json          ID, Name, Created, Config: what run was given
//	    state.json           Status, Pid, ExitCode, StartedAt...: what it is doing
//	    <id>-json.log        the log (written by the monitor, see jsonlog)
//	    .lock                the container's own lock (Lock): start, stop, rm
//
// A container is found by its full ID, its name ("web" or "/web"), or any
// unique prefix of its ID, in that order, as docker does. Names are unique:
// two "run --name web" at once give one container and one ErrNameConflict.
//
// # The calls, in order
//
//  1. open("<root>/containers/.lock") + flock(LOCK_EX): every Create, Update
//     and Remove runs between this and close(2). Reads take no lock: they
//     only ever see whole files (step 3), and a process may then call Get
//     inside an Update's function without deadlocking on its own lock.
//  2. Create: read every config.json for the names in use, then write the
//     new files into ".tmp-<id>" and rename(2) it to "<id>", so a listing
//     never sees a container without its files.
//  3. Update: write ".state.json.tmp", fsync(2), rename(2) over state.json,
//     fsync the directory. rename is atomic: after a SIGKILL at any instant
//     the file is the old one or the new one, never a mix.
//  4. Remove: rename "<id>" to ".removing-<id>" under the lock (the name is
//     free at once), then delete the tree without holding it.
//
// # What goes wrong
//
// Writing state.json in place (os.WriteFile truncates first) leaves an
// empty or half-written file when the writer is killed, and "ps" then fails
// for every container. Checking the name and creating the directory under
// two different locks, or none, lets two concurrent runs both take "web".
// flock locks belong to an open file description, not a process: a second
// open+flock of the same file in the same process blocks like any other
// process would, which is why reads take no lock.
//
// # See also
//
// flock(2), rename(2), fsync(2); moby daemon/names.go (name rules and
// conflicts), daemon/container.go (GetContainer: ID, name, then prefix),
// pkg/namesgenerator.
package state
