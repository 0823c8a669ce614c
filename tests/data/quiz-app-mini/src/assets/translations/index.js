import englishQuizzes from './en';
import spanishQuizzes from './es';

const messages = {
  en: englishQuizzes,
  es: spanishQuizzes
};
export default messages;
