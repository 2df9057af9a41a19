package sshtarget

// SetSFTPWalk makes t walk by listing directories over SFTP, as it does
// where find cannot be used, so tests cover that path on any host.
func SetSFTPWalk(t *Target, on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sftpWalkOnly = on
}
