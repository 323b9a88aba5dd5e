# Turns a file into a C source holding its bytes: cmake -DIN=file -DOUT=file.c
# -DNAME=symbol -P embed.cmake. Defines `const char NAME[]` (NUL-terminated)
# and `const unsigned NAME_len`. Used for the live view's page, so it is
# written and checked as plain HTML and served from the binary.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" body "${body}")
file(WRITE "${OUT}" "/* generated from ${IN} by cmake/embed.cmake: do not edit */\n"
  "const char ${NAME}[] = {\n${body}0};\nconst unsigned ${NAME}_len = ${bytes};\n")
