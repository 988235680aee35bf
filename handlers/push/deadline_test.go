package push

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

type testKey struct{}

// A lookup with a key of type *int (package context's own, &cancelCtxKey)
// starts the timer and answers from the started context, so that package
// context finds a cancelCtx there; other keys do not start it.
func TestLazyDeadlinePrivateKeyStarts(t *testing.T) {
	t.Parallel()
	ctx := withLazyDeadline(context.Background(), time.Hour)
	defer ctx.release()
	_ = ctx.Value(testKey{})
	if ctx.inner.Load() != nil {
		t.Fatal("a lookup of an ordinary key started the timer")
	}
	key := new(int)
	if got := ctx.Value(key); got != nil {
		t.Errorf("Value(*int) = %v, want the started context's answer, nil", got)
	}
	if ctx.inner.Load() == nil {
		t.Error("a lookup with an *int key did not start the timer")
	}
}

func TestLazyDeadlineUnstarted(t *testing.T) {
	t.Parallel()
	parent := context.WithValue(context.Background(), testKey{}, "v")
	ctx := withLazyDeadline(parent, time.Hour)
	release := ctx.release
	if got := ctx.Value(testKey{}); got != "v" {
		t.Errorf("Value: got %v, want v", got)
	}
	if d, ok := ctx.Deadline(); !ok || time.Until(d) < 59*time.Minute {
		t.Errorf("Deadline: got %v, %v", d, ok)
	}
	if err := ctx.Err(); err != nil {
		t.Errorf("Err before the deadline: %v", err)
	}
	if ctx.inner.Load() != nil {
		t.Error("Value, Deadline and Err started the timer")
	}
	release()
	if ctx.inner.Load() != nil {
		t.Error("release of an unused context started the timer")
	}
	if err := ctx.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("Err after release: got %v, want Canceled", err)
	}
	select {
	case <-ctx.Done():
	default:
		t.Error("Done not closed after release")
	}
}

func TestLazyDeadlineExpires(t *testing.T) {
	t.Parallel()
	t.Run("watched", func(t *testing.T) {
		t.Parallel()
		ctx := withLazyDeadline(context.Background(), 20*time.Millisecond)
		release := ctx.release
		defer release()
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("Done never closed")
		}
		if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Err: got %v, want DeadlineExceeded", err)
		}
		if got := context.Cause(ctx); !errors.Is(got, context.DeadlineExceeded) {
			t.Errorf("Cause: got %v, want DeadlineExceeded", got)
		}
	})
	t.Run("unwatched", func(t *testing.T) {
		t.Parallel()
		ctx := withLazyDeadline(context.Background(), time.Nanosecond)
		release := ctx.release
		defer release()
		for ctx.Err() == nil { // the clock, not a timer, decides
			time.Sleep(time.Millisecond)
		}
		if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Err: got %v, want DeadlineExceeded", err)
		}
		select {
		case <-ctx.Done():
		default:
			t.Error("Err says the deadline passed but Done is open")
		}
		release()
		if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Err after release: got %v, want it to stay DeadlineExceeded", err)
		}
	})
	t.Run("cause before done", func(t *testing.T) {
		t.Parallel()
		ctx := withLazyDeadline(context.Background(), time.Nanosecond)
		release := ctx.release
		defer release()
		time.Sleep(time.Millisecond)
		if got := context.Cause(ctx); !errors.Is(got, context.DeadlineExceeded) {
			t.Errorf("Cause: got %v, want DeadlineExceeded", got)
		}
	})
}

func TestLazyDeadlineParent(t *testing.T) {
	t.Parallel()
	cause := errors.New("client went away")
	t.Run("canceled while watched", func(t *testing.T) {
		t.Parallel()
		parent, cancel := context.WithCancelCause(context.Background())
		ctx := withLazyDeadline(parent, time.Hour)
		release := ctx.release
		defer release()
		done := ctx.Done()
		cancel(cause)
		<-done
		if err := ctx.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("Err: got %v, want Canceled", err)
		}
		if got := context.Cause(ctx); got != cause {
			t.Errorf("Cause: got %v, want %v", got, cause)
		}
	})
	t.Run("canceled before anyone looked", func(t *testing.T) {
		t.Parallel()
		parent, cancel := context.WithCancelCause(context.Background())
		ctx := withLazyDeadline(parent, time.Hour)
		release := ctx.release
		defer release()
		cancel(cause)
		if err := ctx.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("Err: got %v, want Canceled", err)
		}
		if got := context.Cause(ctx); got != cause {
			t.Errorf("Cause: got %v, want %v", got, cause)
		}
	})
	t.Run("sooner parent deadline wins", func(t *testing.T) {
		t.Parallel()
		parent, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		want, _ := parent.Deadline()
		ctx := withLazyDeadline(parent, time.Hour)
		release := ctx.release
		defer release()
		if got, _ := ctx.Deadline(); !got.Equal(want) {
			t.Errorf("Deadline: got %v, want parent's %v", got, want)
		}
	})
	t.Run("derived contexts follow it", func(t *testing.T) {
		t.Parallel()
		ctx := withLazyDeadline(context.Background(), time.Hour)
		release := ctx.release
		child, cancelChild := context.WithCancel(ctx)
		defer cancelChild()
		stopped := make(chan struct{})
		context.AfterFunc(ctx, func() { close(stopped) })
		release()
		<-child.Done()
		<-stopped
		if err := child.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("child Err: got %v, want Canceled", err)
		}
	})
}

func TestLazyDeadlineConcurrent(t *testing.T) {
	t.Parallel()
	ctx := withLazyDeadline(context.Background(), time.Hour)
	release := ctx.release
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_ = ctx.Err()
			<-ctx.Done()
		})
	}
	release()
	wg.Wait()
}

func BenchmarkDeadline(b *testing.B) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Run("WithTimeout", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(parent, 8*time.Second)
			_ = ctx.Value(testKey{})
			cancel()
		}
	})
	b.Run("lazy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx := withLazyDeadline(parent, 8*time.Second)
			_ = ctx.Value(testKey{})
			ctx.release()
		}
	})
}

// TestLazyDeadlineReleasedBeforeItsDeadline: released early and looked at
// only after the deadline has passed, it says Canceled, as
// context.WithTimeout's context does.
func TestLazyDeadlineReleasedBeforeItsDeadline(t *testing.T) {
	t.Parallel()
	ctx := withLazyDeadline(context.Background(), 5*time.Millisecond)
	ctx.release()
	time.Sleep(10 * time.Millisecond) // past the deadline, not waiting for state
	if err := ctx.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("Err: got %v, want Canceled", err)
	}
	<-ctx.Done()
}
