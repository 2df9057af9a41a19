package oval

import (
	"context"
	"errors"
	"sync"
)

// errPanicked is what the goroutines waiting on a computation see when
// the goroutine computing it panicked.
var errPanicked = errors.New("oval: evaluation panicked")

// memo computes each key's value once and shares it with every caller,
// concurrent ones included: those wait for the first. A computation that
// failed because its context ended is forgotten, so that a later caller
// with a live context computes it again instead of inheriting a
// cancellation that was not its own.
//
// Waiting cannot deadlock because the evaluator only waits along the
// references between definitions, tests, objects, states and variables,
// and NewEvaluator has marked every reference cycle as an error up front.
type memo[T any] struct {
	mu sync.Mutex
	m  map[string]*memoCall[T]
}

type memoCall[T any] struct {
	done chan struct{}
	val  T
	err  error
}

func (m *memo[T]) do(ctx context.Context, key string, f func() (T, error)) (T, error) {
	for {
		m.mu.Lock()
		if c, ok := m.m[key]; ok {
			m.mu.Unlock()
			select {
			case <-c.done: // a known value never waits on ctx
			default:
				select {
				case <-c.done:
				case <-ctx.Done():
					var zero T
					return zero, ctx.Err()
				}
			}
			if isContextErr(c.err) && ctx.Err() == nil {
				continue // another caller's context ended; compute anew
			}
			return c.val, c.err
		}
		if m.m == nil {
			m.m = map[string]*memoCall[T]{}
		}
		c := &memoCall[T]{done: make(chan struct{}), err: errPanicked}
		m.m[key] = c
		m.mu.Unlock()
		m.run(key, c, f)
		return c.val, c.err
	}
}

func (m *memo[T]) run(key string, c *memoCall[T], f func() (T, error)) {
	defer func() {
		if c.err == errPanicked || isContextErr(c.err) {
			m.mu.Lock()
			delete(m.m, key)
			m.mu.Unlock()
		}
		close(c.done)
	}()
	c.val, c.err = f()
}

func isContextErr(err error) bool {
	return err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}
