// Package jsonlog writes and reads a container's output in Docker's json-file
// log format, the format of /var/lib/docker/containers/<id>/<id>-json.log.
//
// # The idea
//
// A detached container's stdout and stderr are pipes; someone has to keep
// reading them after "docker run -d" has returned, or the program blocks
// once the pipe buffer (64 KiB) is full. That someone (Docker's daemon, our
// monitor) copies each stream into one file, one JSON object per line:
//
//	{"log":"hello\n","stream":"stdout","time":"2026-11-22T10:00:00.123456789Z"}
//
// "docker logs" reads the file back, sends each line's text to the stream it
// came from, and can prefix each with its time (-t), start from the last N
// lines (--tail) and keep printing new lines as they come (-f).
//
// The bytes are moby's (daemon/logger/jsonfilelog): fields in the order log,
// stream, time; the time in RFC 3339 with nanoseconds, UTC, trailing zeros
// dropped; "<", ">" and "&" written as \u003c, \u003e and \u0026, control
// characters other than \n and \r as \u00XX, invalid UTF-8 as \ufffd. A line
// keeps its newline; a line longer than 16 KiB is cut into 16 KiB entries
// without one (Docker's "partial" messages), and what is left without a
// newline when the stream closes is written as is.
//
// # The calls, in order
//
//  1. Writing: New(file, time.Now) once per container, then Stream("stdout")
//     and Stream("stderr"), each fed by io.Copy from its pipe in its own
//     goroutine. Every entry is encoded into a buffer and written with one
//     write(2) under a mutex, so entries never interleave and a reader never
//     sees half of one unless the writer died inside that call.
//  2. Reading: Read seeks to the start of the last N entries by reading the
//     file backwards in 32 KiB blocks and counting newlines, so --tail 10 of a
//     1 GB log reads a few KiB. Then it decodes line by line and writes each
//     text, with the fixed-width "-t" time when asked, to stdout or stderr.
//  3. Following: Follow does the same, then polls the file (every
//     PollInterval) for appended entries until the container is done, and
//     drains what was written before it returns.
//
// # What goes wrong
//
// A copier that stops on a write error (disk full) stops reading the pipe
// and freezes the container: Stream.Write therefore always consumes its input
// and Logger.Err reports the first failure. Writing stdout and stderr with
// separate write calls per fragment interleaves them mid-line. A reader that
// decodes an unterminated last line sees an entry that is still being
// written: Read and Follow leave it until its newline arrives. A follower
// that checks "exited?" after its last read instead of before it loses what
// was written in between.
//
// # See also
//
// https://docs.docker.com/engine/logging/drivers/json-file/; moby
// daemon/logger/copier.go (16 KiB partial lines),
// daemon/logger/jsonfilelog/jsonlog/jsonlogbytes.go (the encoder),
// api/server/httputils/write_log_stream.go (the -t prefix).
package jsonlog
