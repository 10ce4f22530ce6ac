package p
func f( {{{{ m[ = func(
