/*
 * template - the texts users read; see template.h.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "template.h"
#include "xmalloc.h"

static char	*template_read(const char *);

static char *
template_read(const char *path)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(&b, chunk, n);
	if (ferror(fp)) {
		log_warn("template %s", path);
		fclose(fp);
		buf_free(&b);
		return NULL;
	}
	fclose(fp);
	return buf_release(&b);
}

/*
 * The text of template name in lang (falling back to English, then
 * Japanese), or NULL when there is none.  Allocated.
 */
char *
template_load(const struct config *cf, const char *lang, const char *name)
{
	const char *langs[] = { lang, "en", "ja" };
	size_t i;

	for (i = 0; i < 3; i++) {
		const struct template_builtin *t;

		if (cf && cf->templates_dir) {
			struct buf p = BUF_INIT;
			char *text;

			buf_printf(&p, "%s/%s/%s.txt", cf->templates_dir,
			    langs[i], name);
			text = template_read(buf_cstr(&p));
			buf_free(&p);
			if (text)
				return text;
		}
		for (t = template_builtins; t->lang; t++)
			if (strcmp(t->lang, langs[i]) == 0 &&
			    strcmp(t->name, name) == 0)
				return xstrdup(t->text);
	}
	log_warnx("no template \"%s\"", name);
	return NULL;
}

void
template_expand(struct buf *out, const char *text, const struct tvar *vars,
    size_t nvars)
{
	const char *p;

	while ((p = strstr(text, "%{")) != NULL) {
		const char *end = strchr(p + 2, '}');
		size_t i;

		buf_add(out, text, (size_t)(p - text));
		if (end == NULL) {
			text = p;
			break;
		}
		for (i = 0; i < nvars; i++)
			if (strlen(vars[i].name) == (size_t)(end - p - 2) &&
			    strncmp(vars[i].name, p + 2, (size_t)(end - p - 2))
			    == 0)
				break;
		if (i < nvars)
			buf_adds(out, vars[i].value ? vars[i].value : "");
		else
			buf_add(out, p, (size_t)(end - p + 1));
		text = end + 1;
	}
	buf_adds(out, text);
}

/* Load and expand in one step; 0, or -1 when the template is missing. */
int
template_render(const struct config *cf, const char *lang, const char *name,
    const struct tvar *vars, size_t nvars, struct buf *out)
{
	char *text = template_load(cf, lang, name);

	if (text == NULL)
		return -1;
	template_expand(out, text, vars, nvars);
	free(text);
	return 0;
}
