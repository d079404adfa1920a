// What dojo's shared libraries export. They are built with hidden visibility (-fvisibility=hidden):
// a public header brackets its declarations with DOJO_PUBLIC_BEGIN / DOJO_PUBLIC_END, so what a
// header declares is the API and everything else in the libraries stays internal. One library
// instance per process means one instance of each registry, for a plugin or a Python module too.
#pragma once

#define DOJO_PUBLIC_BEGIN _Pragma("GCC visibility push(default)")
#define DOJO_PUBLIC_END _Pragma("GCC visibility pop")
