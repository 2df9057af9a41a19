package target

import "context"

// Failed stands for a target that could not be opened: every call
// returns err, so the engine reports every control Error with the host's
// reason (unreachable, auth_failed, host_key_mismatch, timeout). The CLI
// and the scanner worker use it so an unreachable host still yields one
// result per control.
func Failed(name string, err error) Target { return &failed{name: name, err: err} }

type failed struct {
	name string
	err  error
}

func (u *failed) Name() string                                            { return u.name }
func (u *failed) Facts(context.Context) (Facts, error)                    { return Facts{}, u.err }
func (u *failed) Stat(context.Context, string) (FileInfo, error)          { return FileInfo{}, u.err }
func (u *failed) Lstat(context.Context, string) (FileInfo, error)         { return FileInfo{}, u.err }
func (u *failed) ReadFile(context.Context, string, int64) ([]byte, error) { return nil, u.err }
func (u *failed) ReadDir(context.Context, string) ([]FileInfo, error)     { return nil, u.err }
func (u *failed) Readlink(context.Context, string) (string, error)        { return "", u.err }
func (u *failed) Walk(context.Context, WalkOptions, WalkFunc) error       { return u.err }
func (u *failed) Run(context.Context, []string, int64) (CmdResult, error) {
	return CmdResult{}, u.err
}
func (u *failed) Close() error { return nil }
