//go:build js && wasm

package ui

import "syscall/js"

// afterPaint calls f (on a goroutine of its own) once the browser has
// painted the next frame, in a task of its own: a timeout queued from that
// frame's requestAnimationFrame. Work that can wait for the first frame
// (focusing, which lays the page out) so does not lengthen the task that
// rendered it. A hidden page paints no frames: there f follows a timeout
// alone.
func afterPaint(f func()) {
	var later, frame js.Func
	later = js.FuncOf(func(js.Value, []js.Value) any {
		later.Release()
		go f()
		return nil
	})
	if js.Global().Get("document").Get("visibilityState").String() == "hidden" {
		js.Global().Call("setTimeout", later, 0)
		return
	}
	frame = js.FuncOf(func(js.Value, []js.Value) any {
		frame.Release()
		js.Global().Call("setTimeout", later, 0)
		return nil
	})
	js.Global().Call("requestAnimationFrame", frame)
}
