package target

import "sync"

// CappedBuffer is an io.Writer that keeps at most limit bytes of a
// command's output. Past the limit it keeps what fits, calls onOver
// (which kills the command) and fails the write with ErrTooLarge, so the
// copy from the pipe stops instead of buffering without bound. Every
// Target that runs commands bounds their output with it.
type CappedBuffer struct {
	mu     sync.Mutex
	buf    []byte
	limit  int64
	over   bool
	onOver func()
}

// NewCappedBuffer returns a buffer of at most limit bytes; onOver may be
// nil.
func NewCappedBuffer(limit int64, onOver func()) *CappedBuffer {
	return &CappedBuffer{limit: limit, onOver: onOver}
}

func (w *CappedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.over {
		return 0, ErrTooLarge
	}
	room := w.limit - int64(len(w.buf))
	if int64(len(p)) <= room {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	w.buf = append(w.buf, p[:room]...)
	w.over = true
	if w.onOver != nil {
		w.onOver()
	}
	return int(room), ErrTooLarge
}

// Bytes returns what was kept.
func (w *CappedBuffer) Bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf
}

// Over reports whether output was cut at the limit.
func (w *CappedBuffer) Over() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.over
}
