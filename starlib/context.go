// This file defines the bridge between a Go context and a Starlark thread:
// the "context" thread-local and the binding of ctx.Done to thread.Cancel.

package starlib

import (
	"context"
	"sync"

	"go.starlark.net/starlark"
)

// contextKey is the thread-local key of the thread's context. It is the key
// go.starlark.net/repl sets for Control-C, so the REPL's cancellation
// reaches pirun's blocking builtins too.
const contextKey = "context"

// SetContext makes ctx the context of thread, which blocking builtins such
// as time.sleep select on. Like thread.SetLocal, it must be called before
// the thread starts executing, from the goroutine that owns the thread.
func SetContext(thread *starlark.Thread, ctx context.Context) {
	thread.SetLocal(contextKey, ctx)
}

// Context returns the context of thread, or context.Background() if none
// was set. It may be called by builtins running on thread.
func Context(thread *starlark.Thread) context.Context {
	if ctx, ok := thread.Local(contextKey).(context.Context); ok && ctx != nil {
		return ctx
	}
	return context.Background()
}

// BindCancel arranges for thread.Cancel to be called, with the text of
// context.Cause(ctx) as the reason, when ctx is done. The returned stop
// function ends the binding: once it returns, Cancel has either already
// been called or never will be, and no goroutine started by BindCancel
// remains. stop is idempotent and safe to call from any goroutine; call it
// when the thread's work ends (typically with defer). No goroutine runs
// until ctx is done (context.AfterFunc).
func BindCancel(ctx context.Context, thread *starlark.Thread) (stop func()) {
	b := &cancelBinding{ctx: ctx, thread: thread}
	b.fired.Add(1)
	b.stopAfter = context.AfterFunc(ctx, b.cancel)
	return b.stop
}

// cancelBinding is one BindCancel: a struct rather than closures, channel
// and sync.OnceFunc, because engines bind every task's thread.
type cancelBinding struct {
	ctx       context.Context
	thread    *starlark.Thread
	stopAfter func() bool
	fired     sync.WaitGroup // done when cancel ran, or once it never will
	once      sync.Once
}

func (b *cancelBinding) cancel() {
	defer b.fired.Done()
	b.thread.Cancel(context.Cause(b.ctx).Error())
}

func (b *cancelBinding) stop() { b.once.Do(b.end) }

func (b *cancelBinding) end() {
	if b.stopAfter() {
		b.fired.Done() // cancel will never run
	}
	b.fired.Wait() // else it started: wait until it has cancelled
}
