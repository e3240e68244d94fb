package network

import "errors"

// ErrNoSubnet is returned by New when every default pool overlaps a host
// route, so no subnet can be picked without one being given.
var ErrNoSubnet = errors.New("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")

// ErrNotBridge is returned by EnsureBridge when a link of the bridge's name
// exists and is something else.
var ErrNotBridge = errors.New("link exists and is not a bridge")

// ErrInvalidID is returned by Attach and Detach for an empty container ID or
// one that cannot be a file name.
var ErrInvalidID = errors.New("invalid container id")

// ErrAttached is returned by Attach for an ID that is already attached.
var ErrAttached = errors.New("container already attached")

// ErrInvalidName is returned by HostsFile and HostnameFile for a name that
// would break the file's format.
var ErrInvalidName = errors.New("invalid host name")

// ErrInUse is returned by Teardown while a container is still attached to
// the network, whichever data root it belongs to.
var ErrInUse = errors.New("network in use")

// ErrNoBridge is returned by Attach when the bridge does not exist (call
// EnsureBridge first; a Teardown may have run in between).
var ErrNoBridge = errors.New("bridge does not exist")
