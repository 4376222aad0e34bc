#!/usr/bin/env python3
"""check-i18n.py CHECK SRCDIR: the translations do not rot.

  marked  every string a person reads is marked for translation: the .ui files'
          labels, titles and tooltips carry translatable="yes", and the C files
          of po/POTFILES.in pass no unmarked sentence to anything but the log
          (g_warning, g_debug, ...). A C literal that is not for people (a
          file format's keyword, Python code) is exempted by a comment
          "not translated: WHY" in its statement or on the line above. The
          lessons' Python programs (engine/lessons-*.c) are not scanned.
  pot     po/gradlens.pot holds exactly what xgettext extracts from
          po/POTFILES.in today (fix: meson compile -C build gradlens-pot).
  LANG    po/LANG.po translates every message of the .pot, none fuzzy, and
          msgfmt --check accepts it (fix: meson compile -C build
          gradlens-update-po, then translate what msgfmt --statistics counts).

Exit status: 0 passed, 1 failed (each problem printed as FILE:LINE: what),
77 skipped (gettext's tools are not installed: tools/setup.sh installs them).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

# ---------------------------------------------------------------- .po files


def po_unquote(s):
    s = s.strip()
    assert s.startswith('"') and s.endswith('"'), s
    return re.sub(r'\\(.)', lambda m: {'n': '\n', 't': '\t'}.get(m.group(1), m.group(1)),
                  s[1:-1])


def po_read(path):
    """The entries of a .po/.pot file: dicts with ctxt, id, plural, strs, fuzzy."""
    entries, cur, key = [], None, None

    def flush():
        if cur is not None and 'id' in cur:
            entries.append(cur)

    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if not line.strip():
                continue
            if line.startswith('#~'):
                continue
            if line.startswith('#'):
                if cur is not None and 'id' in cur:
                    flush()
                    cur = None
                if cur is None:
                    cur = {'ctxt': None, 'plural': None, 'strs': {}, 'fuzzy': False}
                if line.startswith('#,') and 'fuzzy' in line:
                    cur['fuzzy'] = True
                continue
            m = re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line)
            if m:
                word = m.group(1)
                if cur is None or (word in ('msgctxt', 'msgid') and 'id' in cur):
                    flush()
                    cur = {'ctxt': None, 'plural': None, 'strs': {}, 'fuzzy': False}
                if word == 'msgctxt':
                    key = ('ctxt',)
                elif word == 'msgid':
                    key = ('id',)
                elif word == 'msgid_plural':
                    key = ('plural',)
                else:
                    key = ('strs', int(m.group(2) or 0))
                value = po_unquote(m.group(3))
            elif line.startswith('"'):
                value = po_unquote(line)
                if key[0] == 'strs':
                    cur['strs'][key[1]] += value
                else:
                    cur[key[0]] += value
                continue
            else:
                raise ValueError(f'{path}: cannot read line: {line}')
            if key[0] == 'strs':
                cur['strs'][key[1]] = value
            else:
                cur[key[0]] = value
    flush()
    return [e for e in entries if e['id'] != '']  # drop the header


def po_key(e):
    return (e['ctxt'], e['id'], e['plural'])


def show_key(k):
    ctxt, msgid, _ = k
    return (f'[{ctxt}] ' if ctxt else '') + repr(msgid)

# ------------------------------------------------------------------ sources


def potfiles(srcdir):
    with open(os.path.join(srcdir, 'po', 'POTFILES.in'), encoding='utf-8') as f:
        return [l.strip() for l in f if l.strip() and not l.startswith('#')]


# The .ui properties and menu attributes a person reads.
UI_TEXT = re.compile(r'<(property|attribute)\s+name="(label|title|subtitle|tooltip-text|'
                     r'tooltip-markup|placeholder-text|text|secondary-text|accessible-name|'
                     r'description)"([^>]*)>([^<]*)<')
UI_ITEM = re.compile(r'<item([^>]*)>([^<]*)</item>')


def check_ui(path, rel, problems):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    for m in list(UI_TEXT.finditer(text)) + list(UI_ITEM.finditer(text)):
        attrs, value = m.group(m.lastindex - 1), m.group(m.lastindex)
        if not re.search(r'[^\W\d_]', value):
            continue                      # no letters: "·", "0.01", ""
        if 'translatable="yes"' in attrs or 'translatable="no"' in attrs:
            continue
        line = text.count('\n', 0, m.start()) + 1
        problems.append(f'{rel}:{line}: “{value.strip()}” is not marked translatable="yes" '
                        '(or translatable="no" if no person reads it)')


# Calls whose string arguments are marked for translation.
MARKERS = {'_', 'N_', 'C_', 'NC_', 'Q_', 'gettext', 'ngettext', 'g_dgettext', 'g_dngettext',
           'g_dpgettext', 'g_dpgettext2', 'dgettext', 'dngettext'}
# Calls whose strings no user reads: the log, assertions, the type system, keys.
DEVELOPER = re.compile(r'^(g_(warning|critical|debug|info|message|error|log\w*|assert\w*|'
                       r'return\w*|test_\w+|warn_if_\w+|warn_message|on_error\w*|'
                       r'signal_\w+|object_\w+|param_spec_\w+|type_\w+|quark_\w+|'
                       r'key_file_\w+|action_\w+|simple_action\w*|variant\w*|settings\w*|'
                       r'str_equal|str_has_\w+|strcmp0|ascii_\w+|getenv|setenv|'
                       r'hash_table_\w+|file_\w+|build_filename|content_type\w*|'
                       r'resources_\w+|resource_\w+|application_\w+|set_prgname|'
                       r'set_application_name|define_quark\w*|strsplit\w*|regex\w*|'
                       r'menu_item_set_attribute\w*|menu_item_new_section)|'
                       r'G_DEFINE_\w+|G_STATIC_ASSERT|_Static_assert|static_assert|'
                       r'gtk_widget_class_\w+|gtk_widget_add_css_class|gtk_widget_remove_css_class|'
                       r'gtk_widget_set_name|gtk_widget_activate_action\w*|gtk_actionable_\w+|'
                       r'gtk_application_\w+|gtk_builder_\w+|gtk_css_\w+|gtk_accessible_\w+|'
                       r'gtk_shortcut_trigger_parse_string|gtk_widget_add_css_class|'
                       r'gtk_style_context_\w+|gtk_icon_theme_\w+|gtk_image_new_from_icon_name|'
                       r'gtk_button_new_from_icon_name|gtk_\w+_set_icon_name|gtk_stack_\w+|'
                       r'gdk_\w+|cairo_\w+|pango_\w+|agsafeset|agattr|agnode|agedge|agsubg|'
                       r'agopen|agget|gvLayout|gvRender\w*|gvFreeLayout|'
                       r'json_\w+|lesson_run_keep|lesson_run_get\w*|lesson_find|stepper_find\w*|'
                       r'state_dict_\w+|tensor_\w+|module_\w+|strcmp|strncmp|strstr|'
                       r'fopen|printf|sscanf|strtod|strtol|g_str_equal|g_strsplit|g_strjoin|g_utf8_\w+|g_unichar\w*|'
                       r'g_ptr_array\w*|g_source_\w+|g_thread_\w+|g_task_\w+|g_array\w*|g_string_append_c|g_mkdir\w*)$')
# Calls whose every literal argument is shown, even a single word.
SHOWN = re.compile(r'^(gtk_label_new|gtk_label_set_text|gtk_label_set_label|gtk_label_set_markup|'
                   r'gtk_button_new_with_label|gtk_button_new_with_mnemonic|gtk_button_set_label|'
                   r'gtk_check_button_new_with_label|gtk_check_button_set_label|'
                   r'gtk_widget_set_tooltip_text|gtk_widget_set_tooltip_markup|'
                   r'gtk_window_set_title|gtk_frame_new|gtk_frame_set_label|'
                   r'gtk_file_chooser_native_new|gtk_file_filter_set_name|'
                   r'gtk_message_dialog_new|'
                   r'g_menu_append|g_menu_item_new|g_menu_insert|g_menu_prepend|'
                   r'g_set_error|g_set_error_literal|g_prefix_error|g_propagate_prefixed_error|'
                   r'g_option_context_new|g_option_context_set_summary|'
                   r'g_option_context_set_description|g_option_group_new|'
                   r'g_option_entry_description)$')

PRINTF = re.compile(r"%(\d+\$)?[-+ #0']*(\*|\d+)?(\.(\*|\d+))?(hh|h|ll|l|L|q|j|z|t)?[diouxXeEfFgGcsp%]")
SENTENCE = re.compile(r'[^\W\d_]{2,}[’\']?[^\W\d_]*[ \t]+[(“"]?[^\W\d_]{2,}')
EXEMPT = 'not translated'
# Files whose literals are mostly Python programs and what they print, which stay
# as PyTorch writes them; their titles and error messages are marked all the same.
PYTHON_PROGRAMS = ('engine/lessons-',)


def c_tokens(text):
    """(kind, value, line) for identifiers, string literals and punctuation, no comments."""
    i, n, line = 0, len(text), 1
    comments = {}                       # line -> text of comments on that line
    while i < n:
        c = text[i]
        if c == '\n':
            line += 1
            i += 1
        elif text.startswith('/*', i):
            j = text.index('*/', i + 2) + 2
            comments.setdefault(line, '')
            comments[line] += text[i:j]
            for k in range(text.count('\n', i, j)):
                comments.setdefault(line + k + 1, '')
                comments[line + k + 1] += text[i:j]
            line += text.count('\n', i, j)
            i = j
        elif text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            comments.setdefault(line, '')
            comments[line] += text[i:j]
            i = j
        elif c == '#' and (i == 0 or text[text.rfind('\n', 0, i) + 1:i].strip() == ''):
            # A preprocessor line (with continuations): its strings are include paths
            # and macro bodies; macros that build sentences are marked where used.
            j = i
            while True:
                k = text.find('\n', j)
                if k < 0:
                    k = n
                    break
                if text[k - 1] != '\\':
                    break
                j = k + 1
            line += text.count('\n', i, k)
            i = k
        elif c == '"':
            j, value = i + 1, ''
            while text[j] != '"':
                if text[j] == '\\':
                    value += text[j:j + 2]
                    j += 2
                else:
                    value += text[j]
                    j += 1
            yield ('str', value, line)
            i = j + 1
        elif c == "'":
            j = i + 1
            while text[j] != "'":
                j += 2 if text[j] == '\\' else 1
            yield ('char', text[i:j + 1], line)
            i = j + 1
        elif c.isalpha() or c == '_':
            j = i
            while j < n and (text[j].isalnum() or text[j] == '_'):
                j += 1
            yield ('id', text[i:j], line)
            i = j
        elif c.isspace():
            i += 1
        else:
            yield ('punct', c, line)
            i += 1
    yield ('comments', comments, line)


def check_c(path, rel, problems):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    tokens = list(c_tokens(text))
    comments = tokens.pop()[1]
    calls = []            # stack: name of the call (or None) for each open ( [ {
    prev = None
    statement_line = 1    # where the statement holding the current token starts
    i = 0
    while i < len(tokens):
        kind, value, line = tokens[i]
        if kind == 'punct' and value in '([{':
            name = prev[1] if (value == '(' and prev is not None and prev[0] == 'id') else None
            calls.append(name)
        elif kind == 'punct' and value in ')]}':
            if calls:
                calls.pop()
        if kind == 'punct' and value in ';{}':
            statement_line = line
        elif kind == 'str':
            # Adjacent literals (and G_GINT64_FORMAT-style macros between them) are one.
            literal, first_line = value, line
            while i + 1 < len(tokens) and (tokens[i + 1][0] == 'str' or
                                           (tokens[i + 1][0] == 'id' and
                                            tokens[i + 1][1].isupper() and
                                            i + 2 < len(tokens) and tokens[i + 2][0] == 'str')):
                i += 1
                if tokens[i][0] == 'str':
                    literal += tokens[i][1]
            named = [c for c in calls if c is not None]
            inner = named[-1] if named else None
            if any(c in MARKERS for c in named[-1:]):
                pass
            elif any(DEVELOPER.match(c) for c in named):
                pass
            elif any(EXEMPT in comments.get(l, '')
                     for l in range(min(statement_line, first_line - 1), first_line + 1)):
                pass
            else:
                words = PRINTF.sub(' ', literal.replace('\\n', ' ').replace('\\t', ' '))
                shown_call = inner is not None and SHOWN.match(inner)
                if SENTENCE.search(words) or (shown_call and re.search(r'[^\W\d_]{2,}', words)):
                    problems.append(f'{rel}:{first_line}: "{literal}" is not marked for '
                                    'translation (_() / N_() / ngettext(), or a comment '
                                    f'"{EXEMPT}: why")')
        prev = tokens[i]
        i += 1

# ------------------------------------------------------------------- checks


def check_marked(srcdir):
    problems = []
    listed = potfiles(srcdir)
    for rel in listed:
        path = os.path.join(srcdir, rel)
        if not os.path.exists(path):
            problems.append(f'po/POTFILES.in: {rel} does not exist')
        elif rel.endswith('.ui'):
            check_ui(path, rel, problems)
        elif rel.endswith('.c') and not rel.startswith(PYTHON_PROGRAMS):
            check_c(path, rel, problems)
    # Every file that marks strings or is a .ui template must be listed, or its
    # strings never reach the .pot.
    for top in ('app', 'engine', 'ui', 'resources'):
        for root, _, names in os.walk(os.path.join(srcdir, top)):
            for name in sorted(names):
                path = os.path.join(root, name)
                rel = os.path.relpath(path, srcdir)
                if rel in listed:
                    continue
                if name.endswith('.ui'):
                    problems.append(f'{rel}: a .ui file missing from po/POTFILES.in')
                elif name.endswith('.c'):
                    with open(path, encoding='utf-8') as f:
                        if re.search(r'\b(N?C?_|ngettext)\s*\(\s*"', f.read()):
                            problems.append(f'{rel}: marks strings but is missing from '
                                            'po/POTFILES.in')
    return problems


def extract(srcdir, out):
    subprocess.run(['xgettext', '--from-code=UTF-8', '--add-comments=Translators',
                    '--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
                    '--keyword=g_dngettext:2,3', '--keyword=ngettext:1,2',
                    '--flag=N_:1:pass-c-format', '--flag=C_:2:pass-c-format',
                    '--flag=NC_:2:pass-c-format', '--flag=g_dngettext:2:pass-c-format',
                    '--flag=g_strdup_printf:1:c-format', '--flag=g_set_error:4:c-format',
                    '--flag=g_string_printf:2:c-format',
                    '--flag=g_string_append_printf:2:c-format',
                    '--directory', srcdir, '--files-from',
                    os.path.join(srcdir, 'po', 'POTFILES.in'), '--output', out],
                   check=True)


def check_pot(srcdir):
    with tempfile.TemporaryDirectory() as tmp:
        fresh = os.path.join(tmp, 'fresh.pot')
        extract(srcdir, fresh)
        now = {po_key(e) for e in po_read(fresh)}
    committed = {po_key(e) for e in po_read(os.path.join(srcdir, 'po', 'gradlens.pot'))}
    fix = ' (regenerate it: meson compile -C build gradlens-pot)'
    return ([f'po/gradlens.pot lacks {show_key(k)}{fix}' for k in sorted(now - committed, key=str)] +
            [f'po/gradlens.pot still has {show_key(k)}, no longer in the sources{fix}'
             for k in sorted(committed - now, key=str)])


def check_lang(srcdir, lang):
    problems = []
    po = os.path.join(srcdir, 'po', lang + '.po')
    run = subprocess.run(['msgfmt', '--check', '--statistics', '-o', os.devnull, po],
                         capture_output=True, text=True)
    stats = run.stderr.strip()
    print(f'po/{lang}.po: {stats}')
    if run.returncode != 0:
        problems.append(f'po/{lang}.po: msgfmt --check failed:\n{stats}')
    translations = {po_key(e): e for e in po_read(po)}
    for e in po_read(os.path.join(srcdir, 'po', 'gradlens.pot')):
        t = translations.get(po_key(e))
        if t is None:
            problems.append(f'po/{lang}.po: no entry for {show_key(po_key(e))} '
                            '(meson compile -C build gradlens-update-po, then translate it)')
        elif t['fuzzy'] or not t['strs'] or any(s == '' for s in t['strs'].values()):
            problems.append(f'po/{lang}.po: {show_key(po_key(e))} is '
                            f'{"fuzzy" if t["fuzzy"] else "untranslated"}')
    return problems


def main():
    check, srcdir = sys.argv[1], sys.argv[2]
    for tool in ('xgettext', 'msgfmt'):
        if shutil.which(tool) is None:
            print(f'{tool} is not installed (Debian: gettext; tools/setup.sh installs it): '
                  'skipping')
            return 77
    if check == 'marked':
        problems = check_marked(srcdir)
    elif check == 'pot':
        problems = check_pot(srcdir)
    else:
        problems = check_lang(srcdir, check)
    for p in problems:
        print(p)
    print(f'{check}: {len(problems)} problem(s)')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
