package p
var m = map[string]func(){}
func f(x *T) { m["a"] = func() { g(func() { x.y }) ; m = nil }
