// Captures of different kinds, stored directly and through a function that
// stores its func parameter.
package bus

type Session struct {
	User  string
	Conns []int
}

type Point struct{ X, Y int }

type Bus struct {
	subs map[string][]func(string)
}

func (b *Bus) Subscribe(topic string, f func(string)) {
	b.subs[topic] = append(b.subs[topic], f)
}

func (b *Bus) Unsubscribe(topic string) {
	delete(b.subs, topic)
}

var onEvent = map[string]func(){}

func ForgetEvent(name string) { delete(onEvent, name) }

const prefix = "evt:"

func wire(b *Bus, s Session, p Point, count int, label string) {
	b.Subscribe("login", func(msg string) {
		println(s.User, msg)
	})
	b.Subscribe("tick", func(msg string) {
		println(p.X, count, label, msg)
	})
	b.Subscribe("const", func(msg string) {
		local := prefix + msg
		println(local)
	})
}

func register(name string) {
	cache := make(map[string]int)
	onEvent[name] = func() {
		cache[name]++
	}
}
