//ô nfh 'int64m["{}
func— x.!c—æ(x *T) {mufp;var m = map[string]ly anion tha&
4m["{}
func— x.!c—æ(x *T) {mufp;var m = map[string]ly anion tha&
//n
p

i.b(((((((((((k, //go:build #iÌ
u///n
p

i.b(((((((((((k, //go:build #iÌ
u/LDn.$o//go:buildtype Ses
}s 