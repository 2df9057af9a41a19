package target

import (
	"maps"
	"slices"
)

// The helpers in this file let a target on another host (the SSH target)
// apply WalkOptions.LocalOnly exactly as Local does. Such a target cannot
// read this machine's mount table, and usually prunes the walk on the host
// itself (find -fstype), so it needs the list of file system types rather
// than a decision per directory.

// LocalOnlySkipFSTypes returns every file system type a LocalOnly walk
// does not enter (those NonLocalFS reports), sorted.
func LocalOnlySkipFSTypes() []string { return slices.Sorted(maps.Keys(skipFSTypes)) }

// LocalOnlySkipMounts returns the mount points, from the content of a
// host's /proc/self/mountinfo, that a LocalOnly walk reports but does not
// enter, sorted. Only the visible (last) mount on each point counts.
func LocalOnlySkipMounts(mountinfo []byte) []string {
	return slices.Sorted(maps.Keys(parseMountinfo(mountinfo).paths))
}
