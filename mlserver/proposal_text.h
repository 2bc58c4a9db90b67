/*
 * proposal_text - a proposal's words read out of a mail's text (its
 * theme, the text without signature and quotes, an answer under a
 * command line, a reason); see proposal_text.c.  Pure string work:
 * nothing here touches the store.
 */
#ifndef MLS_PROPOSAL_TEXT_H
#define MLS_PROPOSAL_TEXT_H

char	*proposal_theme_split(const char *text, char **theme);
char	*proposal_text_clean(const char *text, int drop_quotes);
char	*proposal_text_after(const char *text, const char *line);
char	*proposal_first_line(const char *text);

#endif
